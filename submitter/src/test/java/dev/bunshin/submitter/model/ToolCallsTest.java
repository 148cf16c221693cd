package dev.bunshin.submitter.model;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Replies parse into calls as llama.cpp's chat parser reads them; anything that is not a whole call stays text. */
class ToolCallsTest {

    @Test
    void hermesCallsParseWithTheTextBeforeThem() {
        ToolCalls.Parsed p = ToolCalls.parse("Let me look.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": "
                + "{\"city\": \"Paris\"}}\n</tool_call>\n<tool_call>\n{\"name\": \"get_time\", \"arguments\": {}}\n"
                + "</tool_call>", ToolCallFormat.HERMES);
        assertEquals("Let me look.", p.content());
        assertEquals(2, p.calls().size());
        assertEquals("get_weather", p.calls().get(0).name());
        assertEquals("{\"city\":\"Paris\"}", p.calls().get(0).arguments().toString());
        assertEquals("get_time", p.calls().get(1).name());
        assertEquals("{}", p.calls().get(1).arguments().toString());
    }

    @Test
    void aReplyOfOnlyCallsHasNoContent() {
        ToolCalls.Parsed p = ToolCalls.parse("<tool_call>\n{\"name\": \"f\", \"arguments\": {\"x\": 1}}\n</tool_call>",
                ToolCallFormat.HERMES);
        assertNull(p.content());
        assertEquals(List.of(new ToolCalls.Call("f", p.calls().getFirst().arguments())), p.calls());
    }

    @Test
    void anUnclosedLastCallStillParsesWhenItsJsonIsWhole() {
        ToolCalls.Parsed p = ToolCalls.parse("<tool_call>\n{\"name\": \"f\", \"arguments\": {\"x\": 1}}\n",
                ToolCallFormat.HERMES);
        assertEquals(1, p.calls().size());
    }

    @Test
    void argumentsAsAJsonStringOrUnderParametersAreReadToo() {
        assertEquals("{\"a\":true}", ToolCalls.parse("<tool_call>{\"name\": \"f\", \"arguments\": \"{\\\"a\\\": true}\"}"
                + "</tool_call>", ToolCallFormat.HERMES).calls().getFirst().arguments().toString());
        assertEquals("{\"a\":2}", ToolCalls.parse("<tool_call>{\"name\": \"f\", \"parameters\": {\"a\": 2}}</tool_call>",
                ToolCallFormat.HERMES).calls().getFirst().arguments().toString());
    }

    @Test
    void qwen3CoderXmlCallsParseWithJsonValuesAsJson() {
        ToolCalls.Parsed p = ToolCalls.parse("<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n"
                + "<parameter=note>\ntrue story\n</parameter>\n<parameter=days>\n3\n</parameter>\n<parameter=units>\n{\"t\": \"C\"}\n</parameter>\n</function>\n"
                + "</tool_call>", ToolCallFormat.HERMES);
        assertEquals("get_weather", p.calls().getFirst().name());
        assertEquals("{\"city\":\"Paris\",\"note\":\"true story\",\"days\":3,\"units\":{\"t\":\"C\"}}", p.calls().getFirst().arguments().toString());
        String cut = "<tool_call>\n<function=f>\n<parameter=x>\n1\n";
        assertEquals(cut, ToolCalls.parse(cut, ToolCallFormat.HERMES).content());
    }

    @Test
    void malformedCallsFallBackToPlainText() {
        for (String text : List.of(
                "<tool_call>\n{\"name\": \"f\", \"arguments\": {\"x\": \n</tool_call>",   // cut JSON
                "<tool_call>\n{\"arguments\": {}}\n</tool_call>",                          // no name
                "<tool_call>\n[1, 2]\n</tool_call>",                                       // not an object
                "<tool_call>\n{\"name\": \"f\", \"arguments\": [1]}\n</tool_call>",        // arguments not an object
                "<tool_call>{\"name\": \"f\"}</tool_call> and <tool_call>oops</tool_call>")) { // one bad of two
            ToolCalls.Parsed p = ToolCalls.parse(text, ToolCallFormat.HERMES);
            assertEquals(text, p.content());
            assertTrue(p.calls().isEmpty(), text);
        }
        assertEquals("Just text.", ToolCalls.parse("Just text.", ToolCallFormat.HERMES).content());
    }

    @Test
    void llama3JsonCallsParseWithOrWithoutThePythonTag() {
        ToolCalls.Parsed p = ToolCalls.parse(" {\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\"}}",
                ToolCallFormat.LLAMA3);
        assertNull(p.content());
        assertEquals("get_weather", p.calls().getFirst().name());
        assertEquals("{\"city\":\"Paris\"}", p.calls().getFirst().arguments().toString());
        ToolCalls.Parsed two = ToolCalls.parse("<|python_tag|>{\"name\": \"a\", \"parameters\": {}}; "
                + "{\"type\": \"function\", \"name\": \"b\", \"arguments\": {\"k\": \"v\"}}", ToolCallFormat.LLAMA3);
        assertEquals(List.of("a", "b"), two.calls().stream().map(ToolCalls.Call::name).toList());
    }

    @Test
    void llama3TextOrBrokenJsonIsText() {
        for (String text : List.of("The weather is fine.", "{\"name\": \"f\", \"parameters\": {", "{\"answer\": 42}",
                "{\"name\": \"f\", \"parameters\": {}} trailing words")) {
            ToolCalls.Parsed p = ToolCalls.parse(text, ToolCallFormat.LLAMA3);
            assertEquals(text, p.content());
            assertTrue(p.calls().isEmpty(), text);
        }
    }

    @Test
    void aStreamHoldsBackWhatCouldStartACallAndNeverSendsItsMarkup() {
        ToolCallStream s = new ToolCallStream(ToolCallFormat.HERMES);
        StringBuilder sent = new StringBuilder();
        for (String piece : List.of("Sure", ". <", "tool", "_call>\n{\"name\": \"f\", ", "\"arguments\": {}}\n</tool_call>")) {
            sent.append(s.add(piece));
        }
        assertEquals("Sure. ", sent.toString());
        ToolCalls.Parsed end = s.finish();
        assertEquals("f", end.calls().getFirst().name());
        assertNull(end.content());
    }

    @Test
    void aStreamReleasesHeldTextThatTurnsOutNotToBeACall() {
        ToolCallStream s = new ToolCallStream(ToolCallFormat.HERMES);
        assertEquals("a ", s.add("a <"));
        assertEquals("<b> c", s.add("b> c"));
        assertEquals("", s.add("<tool"));
        ToolCalls.Parsed end = s.finish();
        assertEquals("<tool", end.content());
        assertTrue(end.calls().isEmpty());
        ToolCallStream bad = new ToolCallStream(ToolCallFormat.HERMES);
        assertEquals("", bad.add("<tool_call>{\"name\""));
        assertEquals("<tool_call>{\"name\"", bad.finish().content());
    }

    /** Feeds {@code reply} one char at a time; returns the call pieces made. */
    private static List<ToolCallStream.CallDelta> charByChar(ToolCallStream s, String reply) {
        List<ToolCallStream.CallDelta> out = new java.util.ArrayList<>();
        for (int i = 0; i < reply.length(); i++) {
            s.add(reply.substring(i, i + 1));
            out.addAll(s.takeCalls());
        }
        return out;
    }

    private static String arguments(List<ToolCallStream.CallDelta> deltas, int index) {
        StringBuilder b = new StringBuilder();
        for (ToolCallStream.CallDelta d : deltas) if (d.index() == index) b.append(d.arguments());
        return b.toString();
    }

    @Test
    void hermesCallsStreamTheirNameThenTheirArgumentsAsGenerated() {
        String args0 = "{\"q\": \"a } \\\" { ] [\", \"n\": [1, {\"x\": {}}]}";
        String args1 = "{\"city\": \"Rome\"}";
        String reply = "Let me look.<tool_call>\n{\"name\": \"search\", \"arguments\": " + args0 + "}\n</tool_call>\n"
                + "<tool_call>\n{\"name\": \"get_weather\", \"parameters\": " + args1 + "}\n</tool_call>";
        ToolCallStream s = new ToolCallStream(ToolCallFormat.HERMES, Integer.MAX_VALUE);
        List<ToolCallStream.CallDelta> deltas = charByChar(s, reply);
        assertEquals(new ToolCallStream.CallDelta(0, "search", ""), deltas.getFirst());
        assertEquals(args0, arguments(deltas, 0), "braces and quotes inside strings do not end the arguments");
        assertEquals(args1, arguments(deltas, 1));
        assertEquals(List.of("search", "get_weather"), deltas.stream().filter(d -> d.name() != null)
                .map(ToolCallStream.CallDelta::name).toList());
        assertTrue(deltas.size() > args0.length(), "the arguments came a char at a time: " + deltas.size());
        assertEquals(2, s.streamedCalls());
        ToolCalls.Parsed end = s.finish();
        assertEquals(2, end.calls().size(), "finish() still parses every call");
        assertEquals("Let me look.", end.content() == null ? "Let me look." : end.content());
        ToolCallStream one = new ToolCallStream(ToolCallFormat.HERMES, 1);
        List<ToolCallStream.CallDelta> first = charByChar(one, reply);
        assertTrue(first.stream().allMatch(d -> d.index() == 0), "parallel_tool_calls false: the second never streams");
        assertEquals(1, one.streamedCalls());
    }

    @Test
    void callsThatCannotStreamComeWholeFromFinish() {
        for (String reply : List.of(
                "<tool_call>\n{\"arguments\": {\"city\": \"Paris\"}, \"name\": \"get_weather\"}\n</tool_call>",
                "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": \"{\\\"city\\\": \\\"Paris\\\"}\"}\n</tool_call>")) {
            ToolCallStream s = new ToolCallStream(ToolCallFormat.HERMES, Integer.MAX_VALUE);
            assertTrue(charByChar(s, reply).isEmpty(), reply);
            assertEquals(0, s.streamedCalls());
            ToolCalls.Parsed end = s.finish();
            assertEquals("get_weather", end.calls().getFirst().name(), reply);
            assertEquals("Paris", end.calls().getFirst().arguments().path("city").asText(), reply);
        }
    }

    @Test
    void qwen3CoderCallsStreamTheirParametersAsGenerated() throws Exception {
        String reply = "I will check.\n<tool_call>\n<function=get_weather>\n<parameter=city>\nSão \"Paulo\"\n\\ two\n"
                + "</parameter>\n<parameter=days>\n7\n</parameter>\n<parameter=note>\ntrue story\n</parameter>\n"
                + "<parameter=opts>\n{\"units\": [\"C\"]}\n</parameter>\n<parameter=empty>\n</parameter>\n"
                + "<parameter=tag>\n<b>\n</parameter>\n</function>\n</tool_call>\n"
                + "<tool_call>\n<function=noop>\n</function>\n</tool_call>";
        ToolCallStream s = new ToolCallStream(ToolCallFormat.GENERIC, Integer.MAX_VALUE);
        List<ToolCallStream.CallDelta> deltas = new java.util.ArrayList<>();
        StringBuilder text = new StringBuilder();
        boolean sawCityBeforeItsClose = false;
        for (int i = 0; i < reply.length(); i++) {
            text.append(s.add(reply.substring(i, i + 1)));
            deltas.addAll(s.takeCalls());
            if (reply.startsWith("\"Paulo", i + 1) && !reply.substring(0, i + 1).contains("</parameter>")) {
                sawCityBeforeItsClose = arguments(deltas, 0).endsWith("São ");
            }
        }
        assertTrue(sawCityBeforeItsClose, "a string value streams before its close tag: " + arguments(deltas, 0));
        assertEquals("I will check.\n", text.toString());
        assertEquals(new ToolCallStream.CallDelta(0, "get_weather", ""), deltas.getFirst());
        assertEquals(2, s.streamedCalls());
        ToolCalls.Parsed end = s.finish();
        assertEquals(2, end.calls().size());
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        for (int i = 0; i < 2; i++) {
            assertEquals(end.calls().get(i).arguments(), json.readTree(arguments(deltas, i)),
                    "streamed pieces are the arguments finish() parses: " + arguments(deltas, i));
        }
        var args = end.calls().getFirst().arguments();
        assertEquals("São \"Paulo\"\n\\ two", args.path("city").asText());
        assertEquals(7, args.path("days").asInt());
        assertTrue(args.path("days").isInt());
        assertEquals("true story", args.path("note").asText());
        assertEquals("C", args.path("opts").path("units").path(0).asText());
        assertEquals("", args.path("empty").asText());
        assertEquals("<b>", args.path("tag").asText());
        assertEquals("{}", arguments(deltas, 1));
        assertTrue(deltas.stream().filter(d -> d.index() == 0).count() > 20,
                "the city came a char at a time: " + deltas.size());
    }

    @Test
    void llama3CallsStreamOneAfterAnother() throws Exception {
        String reply = "<|python_tag|>{\"name\": \"f\", \"parameters\": {\"a\": [1, \"}\"]}}; "
                + "{\"name\": \"g\", \"parameters\": {\"b\": \"x\"}}";
        ToolCallStream s = new ToolCallStream(ToolCallFormat.LLAMA3, Integer.MAX_VALUE);
        List<ToolCallStream.CallDelta> deltas = charByChar(s, reply);
        assertEquals(List.of("f", "g"), deltas.stream().filter(d -> d.name() != null)
                .map(ToolCallStream.CallDelta::name).toList());
        assertEquals("{\"a\": [1, \"}\"]}", arguments(deltas, 0));
        assertEquals("{\"b\": \"x\"}", arguments(deltas, 1));
        ToolCalls.Parsed end = s.finish();
        assertEquals(2, end.calls().size());
        assertNull(end.content());
        ToolCallStream one = new ToolCallStream(ToolCallFormat.LLAMA3, 1);
        assertTrue(charByChar(one, reply).stream().allMatch(d -> d.index() == 0));
        ToolCallStream other = new ToolCallStream(ToolCallFormat.LLAMA3, Integer.MAX_VALUE);
        assertTrue(charByChar(other, "{\"parameters\": {}, \"name\": \"f\"}").isEmpty(),
                "arguments before the name come whole");
        assertEquals("f", other.finish().calls().getFirst().name());
    }

    @Test
    void aLlama3StreamHoldsAReplyThatStartsLikeACall() {
        ToolCallStream call = new ToolCallStream(ToolCallFormat.LLAMA3);
        assertEquals("", call.add(" {\"name\": \"f\", "));
        assertEquals("", call.add("\"parameters\": {}}"));
        assertEquals("f", call.finish().calls().getFirst().name());
        ToolCallStream text = new ToolCallStream(ToolCallFormat.LLAMA3);
        assertEquals("", text.add("<|py"));
        assertEquals("<|pyHello", text.add("Hello"));
        assertEquals(" {x}", text.add(" {x}"));
        assertNull(text.finish().content());
    }

    @Test
    void heldSuffixIsTheLongestMarkerPrefixAtTheEnd() {
        assertEquals(0, ToolCallStream.heldSuffix("abc", 0, "<tool_call>"));
        assertEquals(1, ToolCallStream.heldSuffix("abc<", 0, "<tool_call>"));
        assertEquals(5, ToolCallStream.heldSuffix("x<tool", 0, "<tool_call>"));
        assertEquals(0, ToolCallStream.heldSuffix("x<tool", 6, "<tool_call>"));
    }
}
