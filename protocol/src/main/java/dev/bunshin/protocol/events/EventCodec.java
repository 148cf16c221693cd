package dev.bunshin.protocol.events;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bunshin.protocol.ProtocolException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Events as JSON, so that anyone can read the topic. A Kafka record holds one event (an object) or the events of
 * one commit (an array of them: a tail's transaction covers every job of its engine call, and one record per
 * commit costs the broker and the consumers a sixteenth of one record per job):
 * <pre>
 * {"type":"job","job":12,"status":"running","finish_reason":null,
 *  "tokens":[{"position":0,"token_id":450,"text":" Once"}]}
 * {"type":"job","job":13,"status":"running","finish_reason":null,
 *  "tokens":[{"position":0,"token_id":450,"text":" Once","logprob":-0.12,"top_ids":[450,9038],"top_logprobs":[-0.12,-2.3]}]}
 * {"type":"batch","batch":"batch_3f…","status":"in_progress","completed":10,"failed":0,"total":500}
 * [{"type":"job","job":12,…},{"type":"job","job":13,…}]
 * </pre>
 * A token's {@code logprob}, {@code top_ids} and {@code top_logprobs} are there only when its job asked for logprobs;
 * absent, the token has none (so events of older tails read as before).
 */
public final class EventCodec {

    private static final ObjectMapper JSON = new ObjectMapper();

    private EventCodec() {}

    public static byte[] encode(Event event) {
        return write(object(event));
    }

    /** The events of one commit, as one array. */
    public static byte[] encode(List<? extends Event> events) {
        ArrayNode a = JSON.createArrayNode();
        for (Event e : events) a.add(object(e));
        return write(a);
    }

    private static byte[] write(JsonNode node) {
        try {
            return JSON.writeValueAsBytes(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("encoding " + node, e);
        }
    }

    private static ObjectNode object(Event event) {
        ObjectNode o = JSON.createObjectNode();
        switch (event) {
            case JobEvent j -> {
                o.put("type", "job").put("job", j.job()).put("status", j.status()).put("finish_reason", j.finishReason());
                ArrayNode tokens = o.putArray("tokens");
                for (JobEvent.Token t : j.tokens()) {
                    ObjectNode to = tokens.addObject().put("position", t.position()).put("token_id", t.tokenId())
                            .put("text", t.text());
                    if (t.logprobs() != null) {
                        to.put("logprob", t.logprobs().logprob());
                        ArrayNode ids = to.putArray("top_ids");
                        for (int id : t.logprobs().topIds()) ids.add(id);
                        ArrayNode lps = to.putArray("top_logprobs");
                        for (float lp : t.logprobs().topLogprobs()) lps.add(lp);
                    }
                }
            }
            case BatchEvent b -> o.put("type", "batch").put("batch", b.batch()).put("status", b.status())
                    .put("completed", b.completed()).put("failed", b.failed()).put("total", b.total());
        }
        return o;
    }

    /**
     * The events of one record, in order.
     *
     * @throws ProtocolException if the bytes are not events this codec writes (the message says what is wrong)
     */
    public static List<Event> decode(byte[] bytes) {
        JsonNode node;
        try {
            node = JSON.readTree(bytes);
        } catch (IOException e) {
            throw new ProtocolException("event is not JSON: " + e.getMessage() + " in " + preview(bytes));
        }
        if (node != null && node.isArray()) {
            List<Event> events = new ArrayList<>(node.size());
            for (JsonNode o : node) events.add(event(o, bytes));
            return events;
        }
        return List.of(event(node, bytes));
    }

    private static Event event(JsonNode o, byte[] bytes) {
        if (o == null || !o.isObject()) throw new ProtocolException("event is not a JSON object: " + preview(bytes));
        String type = text(o, "type", bytes);
        try {
            return switch (type) {
                case "job" -> {
                    List<JobEvent.Token> tokens = new ArrayList<>();
                    JsonNode array = o.path("tokens");
                    if (!array.isMissingNode() && !array.isArray()) {
                        throw new ProtocolException("event field tokens is not an array: " + preview(bytes));
                    }
                    for (JsonNode t : array) {
                        tokens.add(new JobEvent.Token(integer(t, "position", bytes), integer(t, "token_id", bytes),
                                t.path("text").isTextual() ? t.get("text").asText() : null, logprobs(t, bytes)));
                    }
                    JsonNode reason = o.path("finish_reason");
                    yield new JobEvent(number(o, "job", bytes), text(o, "status", bytes),
                            reason.isTextual() ? reason.asText() : null, tokens);
                }
                case "batch" -> new BatchEvent(text(o, "batch", bytes), text(o, "status", bytes),
                        integer(o, "completed", bytes), integer(o, "failed", bytes), integer(o, "total", bytes));
                default -> throw new ProtocolException("unknown event type \"" + type + "\": " + preview(bytes));
            };
        } catch (IllegalArgumentException e) {
            throw new ProtocolException("bad event: " + e.getMessage() + " in " + preview(bytes));
        }
    }

    /** A token's optional logprobs: null when it has no {@code logprob} field. */
    private static JobEvent.Logprobs logprobs(JsonNode t, byte[] bytes) {
        JsonNode lp = t.path("logprob");
        if (lp.isMissingNode() || lp.isNull()) return null;
        if (!lp.isNumber()) throw new ProtocolException("event field logprob is not a number: " + preview(bytes));
        JsonNode ids = t.path("top_ids");
        JsonNode lps = t.path("top_logprobs");
        if (!ids.isArray() || !lps.isArray() || ids.size() != lps.size()) {
            throw new ProtocolException("event fields top_ids and top_logprobs are not arrays of one length: "
                    + preview(bytes));
        }
        int[] topIds = new int[ids.size()];
        float[] topLogprobs = new float[lps.size()];
        for (int i = 0; i < topIds.length; i++) {
            if (!ids.get(i).isInt() || !lps.get(i).isNumber()) {
                throw new ProtocolException("event top_ids/top_logprobs entry " + i + " is not a number: "
                        + preview(bytes));
            }
            topIds[i] = ids.get(i).asInt();
            topLogprobs[i] = (float) lps.get(i).asDouble();
        }
        return new JobEvent.Logprobs((float) lp.asDouble(), topIds, topLogprobs);
    }

    private static String text(JsonNode o, String field, byte[] bytes) {
        JsonNode v = o.path(field);
        if (!v.isTextual()) throw new ProtocolException("event field " + field + " is not a string: " + preview(bytes));
        return v.asText();
    }

    private static long number(JsonNode o, String field, byte[] bytes) {
        JsonNode v = o.path(field);
        if (!v.canConvertToLong() || !v.isIntegralNumber()) {
            throw new ProtocolException("event field " + field + " is not an integer: " + preview(bytes));
        }
        return v.asLong();
    }

    private static int integer(JsonNode o, String field, byte[] bytes) {
        JsonNode v = o.path(field);
        if (!v.isInt()) throw new ProtocolException("event field " + field + " is not a 32-bit integer: " + preview(bytes));
        return v.asInt();
    }

    private static String preview(byte[] bytes) {
        String s = new String(bytes, 0, Math.min(bytes.length, 200), StandardCharsets.UTF_8);
        return bytes.length > 200 ? s + "…" : s;
    }
}
