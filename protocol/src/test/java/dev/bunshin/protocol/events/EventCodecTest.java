package dev.bunshin.protocol.events;

import dev.bunshin.protocol.ProtocolException;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EventCodecTest {

    @Test
    void aJobEventRoundTripsWithItsTokensTextAndEnd() {
        JobEvent e = new JobEvent(42, "completed", "stop", List.of(new JobEvent.Token(7, 450, " Once"),
                new JobEvent.Token(8, 13, "\"quoted\" \n\u00e9\u4e2d")));
        assertEquals(List.of(e), EventCodec.decode(EventCodec.encode(e)));
        assertTrue(e.ends());
        assertEquals("42", e.key());
    }

    @Test
    void oneCommitsEventsTravelAsOneArrayInOrder() {
        List<Event> events = List.of(new JobEvent(1, "running", null, List.of(new JobEvent.Token(0, 5, "a"))),
                JobEvent.status(2, "failed"), new BatchEvent("batch_x", "in_progress", 3, 1, 10));
        byte[] json = EventCodec.encode(events);
        assertTrue(new String(json, StandardCharsets.UTF_8).startsWith("[{\"type\":\"job\""));
        assertEquals(events, EventCodec.decode(json));
    }

    @Test
    void theJsonIsWhatTheDocsSay() {
        String json = new String(EventCodec.encode(new JobEvent(12, "running", null,
                List.of(new JobEvent.Token(0, 450, " Once")))), StandardCharsets.UTF_8);
        assertEquals("{\"type\":\"job\",\"job\":12,\"status\":\"running\",\"finish_reason\":null,"
                + "\"tokens\":[{\"position\":0,\"token_id\":450,\"text\":\" Once\"}]}", json);
    }

    @Test
    void logprobsTravelWithTheirTokensAndTheirAbsenceMeansNone() {
        JobEvent.Logprobs lp = new JobEvent.Logprobs(-0.125f, new int[]{450, 9038}, new float[]{-0.125f, -2.5f});
        JobEvent e = new JobEvent(13, "running", null, List.of(new JobEvent.Token(0, 450, " Once", lp),
                new JobEvent.Token(1, 9, "x", new JobEvent.Logprobs(-1f, new int[0], new float[0]))));
        String json = new String(EventCodec.encode(e), StandardCharsets.UTF_8);
        assertTrue(json.contains("{\"position\":0,\"token_id\":450,\"text\":\" Once\",\"logprob\":-0.125,"
                + "\"top_ids\":[450,9038],\"top_logprobs\":[-0.125,-2.5]}"), json);
        assertEquals(List.of(e), EventCodec.decode(EventCodec.encode(e)));
        JobEvent old = (JobEvent) decode1("{\"type\":\"job\",\"job\":1,\"status\":\"running\","
                + "\"tokens\":[{\"position\":0,\"token_id\":1,\"text\":\"a\"}]}");
        assertEquals(null, old.tokens().getFirst().logprobs());
        assertTrue(assertThrows(ProtocolException.class, () -> decode("{\"type\":\"job\",\"job\":1,\"status\":\"running\","
                + "\"tokens\":[{\"position\":0,\"token_id\":1,\"logprob\":-1,\"top_ids\":[1]}]}")).getMessage()
                .contains("top_ids and top_logprobs"));
    }

    @Test
    void badRecordsAreRefusedNamingWhatIsWrong() {
        assertEquals("event field job is not an integer: {\"type\":\"job\",\"job\":\"x\",\"status\":\"running\"}",
                assertThrows(ProtocolException.class, () -> decode("{\"type\":\"job\",\"job\":\"x\",\"status\":\"running\"}"))
                        .getMessage());
        assertTrue(assertThrows(ProtocolException.class, () -> decode("{\"type\":\"nope\"}")).getMessage()
                .contains("unknown event type \"nope\""));
        assertTrue(assertThrows(ProtocolException.class, () -> decode("not json")).getMessage()
                .startsWith("event is not JSON"));
        assertTrue(assertThrows(ProtocolException.class, () -> decode("{\"type\":\"job\",\"job\":1,\"status\":\"running\","
                + "\"tokens\":[{\"position\":0,\"token_id\":1},{\"position\":2,\"token_id\":1}]}")).getMessage()
                .contains("not contiguous"));
        assertThrows(ProtocolException.class, () -> decode("[1]"));
    }

    @Test
    void aStatusChangeWithoutTokensDoesNotEndARunningJob() {
        assertFalse(JobEvent.status(3, "running").ends());
        assertTrue(JobEvent.status(3, "cancelled").ends());
    }

    private static Event decode1(String s) {
        return decode(s).getFirst();
    }

    private static List<Event> decode(String s) {
        return EventCodec.decode(s.getBytes(StandardCharsets.UTF_8));
    }
}
