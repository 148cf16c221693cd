package dev.bunshin.engine.sample.grammar;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JsonGrammarTest {

    private static Automaton.State run(Automaton a, byte[] bytes) {
        return a.advance(a.start(), bytes);
    }

    private static boolean accepts(Grammar g, String text) {
        return run(new Automaton(g), text.getBytes(StandardCharsets.UTF_8)).accepts();
    }

    private static Grammar schema(String json) {
        return JsonGrammar.schema(Json.parse(json), "", "");
    }

    private static final Grammar OBJECT = JsonGrammar.object("", "");

    @Test
    void anyObjectAcceptsValidDocuments() {
        for (String ok : new String[]{"{}", "{ }", " {\"a\":1}", "{\"a\": [1, 2.5, -0.5e+3, 1E9, 0, true, false, null]}",
                "{\"n\": {\"m\": {\"o\": []}}}", "{\"s\": \"caf\\u00e9 \\\" \\\\ \\/ \\b\\f\\n\\r\\t\"}",
                "{\"é\": \"日本語 🎉\"}", "{\n  \"a\": 1,\n  \"b\": [\n    {}\n  ]\n}", "{\"a\":-0}", "{\"a\":1e-07}"}) {
            assertTrue(accepts(OBJECT, ok), ok);
        }
    }

    @Test
    void anyObjectRefusesInvalidDocuments() {
        for (String bad : new String[]{"[]", "1", "\"s\"", "{", "{\"a\":1,}", "{a:1}", "{\"a\":01}", "{\"a\":1.}",
                "{\"a\":.5}", "{\"a\":+1}", "{\"a\":1e}", "{\"a\":tru}", "{\"a\":'x'}", "{\"a\":\"\u0001\"}",
                "{\"a\":\"\\x\"}", "{\"a\":\"\\u12G4\"}", "{}x", "{} ", "{\"a\"  :1}", "  {}",
                "{\"a\":1234567890123456}", "{\"a\":1e1234}"}) {
            assertFalse(accepts(OBJECT, bad), bad);
        }
    }

    @Test
    void utf8IsCheckedBytewise() {
        Automaton a = new Automaton(OBJECT);
        Automaton.State open = run(a, "{\"a\":\"".getBytes(StandardCharsets.UTF_8));
        // é = C3 A9 split over two steps: the lead byte alone is a live prefix
        Automaton.State lead = a.advance(open, 0xC3);
        assertFalse(lead.isDead());
        assertTrue(a.advance(lead, '"').isDead(), "a lead byte then a quote");
        assertTrue(a.advance(open, 0xA9).isDead(), "a continuation byte cannot start a character");
        assertTrue(a.advance(lead, 0xA9).canContinue());
        assertTrue(a.advance(open, 0xC0).isDead(), "C0 is never valid UTF-8 (overlong)");
        assertTrue(a.advance(a.advance(open, 0xED), 0xA0).isDead(), "ED A0.. would encode a surrogate");
        assertTrue(a.advance(a.advance(open, 0xE0), 0x80).isDead(), "E0 80.. is overlong");
        assertTrue(a.advance(open, 0xF5).isDead());
        assertTrue(run(a, "{\"a\":\"🎉\"}".getBytes(StandardCharsets.UTF_8)).accepts());
    }

    @Test
    void whitespaceIsLimited() {
        assertTrue(accepts(OBJECT, "{\n" + " ".repeat(JsonGrammar.MAX_INDENT) + "\"a\":1}"));
        assertFalse(accepts(OBJECT, "{\n" + " ".repeat(JsonGrammar.MAX_INDENT + 1) + "\"a\":1}"));
        assertFalse(accepts(OBJECT, "{\n\n\"a\":1}"));
    }

    @Test
    void schemaObjectsFollowPropertiesRequiredAndOrder() {
        Grammar g = schema("""
                {"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"},
                 "tags":{"type":"array","items":{"type":"string"}}},"required":["name","age"],"additionalProperties":false}""");
        assertTrue(accepts(g, "{\"name\":\"Ann\",\"age\":3}"));
        assertTrue(accepts(g, "{\"name\":\"Ann\", \"age\":-3, \"tags\":[\"x\",\"y\"]}"));
        assertTrue(accepts(g, "{\"name\":\"\",\"age\":0,\"tags\":[]}"));
        assertFalse(accepts(g, "{\"name\":\"Ann\"}"), "age is required");
        assertFalse(accepts(g, "{\"age\":3,\"name\":\"Ann\"}"), "properties come in the schema's order");
        assertFalse(accepts(g, "{\"name\":\"Ann\",\"age\":3.5}"), "an integer");
        assertFalse(accepts(g, "{\"name\":\"Ann\",\"age\":3,\"x\":1}"), "no other properties");
        assertFalse(accepts(g, "{\"name\":1,\"age\":3}"));
        assertFalse(accepts(g, "{\"name\":\"Ann\",\"age\":3,\"tags\":[1]}"));
    }

    @Test
    void optionalPropertiesMayBeLeftOutAnywhere() {
        Grammar g = schema("{\"properties\":{\"a\":{\"type\":\"null\"},\"b\":{\"type\":\"boolean\"},\"c\":{\"type\":\"number\"}},\"required\":[\"b\"]}");
        for (String ok : new String[]{"{\"b\":true}", "{\"a\":null,\"b\":false}", "{\"b\":true,\"c\":1.5}", "{\"a\":null,\"b\":true,\"c\":2}"}) {
            assertTrue(accepts(g, ok), ok);
        }
        for (String bad : new String[]{"{}", "{\"a\":null}", "{\"c\":1}", "{,\"b\":true}", "{\"b\":true,}"}) {
            assertFalse(accepts(g, bad), bad);
        }
    }

    @Test
    void enumConstAnyOfTypeListsAndRefs() {
        Grammar g = schema("""
                {"type":"object","properties":{
                  "mood":{"enum":["happy","sad",null,3]},
                  "kind":{"const":"story"},
                  "maybe":{"type":["string","null"]},
                  "either":{"anyOf":[{"type":"integer"},{"$ref":"#/$defs/point"}]},
                  "tree":{"$ref":"#/$defs/node"}},
                 "required":["mood","kind","maybe","either","tree"],"additionalProperties":false,
                 "$defs":{"point":{"type":"object","properties":{"x":{"type":"number"}},"required":["x"],"additionalProperties":false},
                          "node":{"type":"object","properties":{"kids":{"type":"array","items":{"$ref":"#/$defs/node"}}},
                                  "required":["kids"],"additionalProperties":false}}}""");
        assertTrue(accepts(g, "{\"mood\":\"sad\",\"kind\":\"story\",\"maybe\":null,\"either\":7,\"tree\":{\"kids\":[]}}"));
        assertTrue(accepts(g, "{\"mood\":3,\"kind\":\"story\",\"maybe\":\"x\",\"either\":{\"x\":1},\"tree\":{\"kids\":[{\"kids\":[]}]}}"));
        assertTrue(accepts(g, "{\"mood\":null,\"kind\":\"story\",\"maybe\":\"\",\"either\":-1,\"tree\":{\"kids\":[]}}"));
        assertFalse(accepts(g, "{\"mood\":\"glad\",\"kind\":\"story\",\"maybe\":null,\"either\":7,\"tree\":{\"kids\":[]}}"));
        assertFalse(accepts(g, "{\"mood\":\"sad\",\"kind\":\"poem\",\"maybe\":null,\"either\":7,\"tree\":{\"kids\":[]}}"));
        assertFalse(accepts(g, "{\"mood\":\"sad\",\"kind\":\"story\",\"maybe\":1,\"either\":7,\"tree\":{\"kids\":[]}}"));
        assertFalse(accepts(g, "{\"mood\":\"sad\",\"kind\":\"story\",\"maybe\":null,\"either\":7.5,\"tree\":{\"kids\":[]}}"));
        assertFalse(accepts(g, "{\"mood\":\"sad\",\"kind\":\"story\",\"maybe\":null,\"either\":7,\"tree\":{\"kids\":[1]}}"));
    }

    @Test
    void arraysHonourMinAndMaxItems() {
        Grammar g = schema("{\"type\":\"array\",\"items\":{\"type\":\"integer\"},\"minItems\":1,\"maxItems\":3}");
        assertFalse(accepts(g, "[]"));
        assertTrue(accepts(g, "[1]"));
        assertTrue(accepts(g, "[1, 2, 3]"));
        assertFalse(accepts(g, "[1,2,3,4]"));
        Grammar upTo2 = schema("{\"type\":\"array\",\"maxItems\":2}");
        assertTrue(accepts(upTo2, "[]"));
        assertTrue(accepts(upTo2, "[{},\"x\"]"));
        assertFalse(accepts(upTo2, "[1,2,3]"));
        Grammar none = schema("{\"type\":\"array\",\"maxItems\":0}");
        assertTrue(accepts(none, "[]"));
        assertFalse(accepts(none, "[1]"));
    }

    @Test
    void prefixAndSuffixAreForced() {
        Grammar g = JsonGrammar.schema(Json.parse("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"}},\"required\":[\"a\"]}"),
                "<tool_call>\n", "\n</tool_call>");
        assertTrue(accepts(g, "<tool_call>\n{\"a\":1}\n</tool_call>"));
        assertFalse(accepts(g, "{\"a\":1}"));
        assertFalse(accepts(g, "<tool_call>\n{\"a\":1}"));
        Automaton a = new Automaton(g);
        Automaton.State done = run(a, "<tool_call>\n{\"a\":1}\n</tool_call>".getBytes(StandardCharsets.UTF_8));
        assertTrue(done.accepts() && !done.canContinue(), "after the suffix nothing may follow");
    }

    @Test
    void unsupportedKeywordsAreRefusedByName() {
        UnsupportedSchemaException e = assertThrows(UnsupportedSchemaException.class, () -> schema(
                "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\",\"pattern\":\"^a\"}}}"));
        assertEquals("properties.name", e.path());
        assertEquals("pattern", e.keyword());
        assertEquals("properties.name.pattern", e.field());
        for (String k : new String[]{"format", "minLength", "oneOf", "allOf", "not", "multipleOf"}) {
            UnsupportedSchemaException x = assertThrows(UnsupportedSchemaException.class,
                    () -> schema("{\"type\":\"object\",\"" + k + "\":1}"));
            assertEquals(k, x.keyword());
        }
        assertEquals("$ref", assertThrows(UnsupportedSchemaException.class,
                () -> schema("{\"$ref\":\"https://example.org/s.json\"}")).keyword());
        assertEquals("required", assertThrows(UnsupportedSchemaException.class,
                () -> schema("{\"properties\":{\"a\":true},\"required\":[\"b\"]}")).keyword());
        assertEquals("items.type", assertThrows(UnsupportedSchemaException.class,
                () -> schema("{\"type\":\"array\",\"items\":{\"type\":\"date\"}}")).field());
    }

    @Test
    void integerBoundsAsZodWritesThemAreHonouredAndOthersRefused() {
        Grammar safe = schema("{\"type\":\"integer\",\"minimum\":-9007199254740991,\"maximum\":9007199254740991}");
        assertTrue(accepts(safe, "-12") && accepts(safe, "0") && accepts(safe, "999999999999999"));
        assertFalse(accepts(safe, "9999999999999999"), "no more digits than the bound allows");
        Grammar nonNegative = schema("{\"type\":\"integer\",\"minimum\":0,\"maximum\":9007199254740991}");
        assertTrue(accepts(nonNegative, "0") && accepts(nonNegative, "42"));
        assertFalse(accepts(nonNegative, "-1"));
        Grammar positive = schema("{\"type\":\"integer\",\"exclusiveMinimum\":0}");
        assertTrue(accepts(positive, "7"));
        assertFalse(accepts(positive, "0") || accepts(positive, "-7"));
        assertEquals("maximum", assertThrows(UnsupportedSchemaException.class,
                () -> schema("{\"type\":\"integer\",\"maximum\":10}")).keyword());
        assertEquals("minimum", assertThrows(UnsupportedSchemaException.class,
                () -> schema("{\"type\":\"integer\",\"minimum\":5}")).keyword());
        assertEquals("minimum", assertThrows(UnsupportedSchemaException.class,
                () -> schema("{\"type\":\"number\",\"minimum\":0}")).keyword());
    }

    @Test
    void jsonReaderRoundTripsAndRefusesGarbage() {
        assertEquals("{\"a\":[1,-5E+2,\"é\\n\",null,true]}", Json.write(Json.parse(" { \"a\" : [1, -0.5e+3, \"\\u00e9\\n\", null, true] } ")));
        assertThrows(IllegalArgumentException.class, () -> Json.parse("{\"a\":}"));
        assertThrows(IllegalArgumentException.class, () -> Json.parse("[1,]"));
    }
}
