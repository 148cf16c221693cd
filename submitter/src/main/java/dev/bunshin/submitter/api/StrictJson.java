package dev.bunshin.submitter.api;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Iterator;
import java.util.Map;

/**
 * Reads one JSON value from a request body or a batch line, strictly (RFC 8259 and what PostgreSQL can store):
 * <ul>
 *   <li>the bytes are valid UTF-8 (RFC 3629: no overlong forms, no encoded surrogates) — never silently U+FFFD;</li>
 *   <li>one JSON value and nothing after it but whitespace;</li>
 *   <li>no object has a key twice (which of two {@code max_tokens} would count is anyone's guess);</li>
 *   <li>no string, value or key, holds U+0000: PostgreSQL's {@code text} cannot store it.</li>
 * </ul>
 * Each failure is a 400 {@link ApiException} naming the field (a path such as {@code messages[0].content}) where
 * one can be found, and the position.
 */
public final class StrictJson {

    private StrictJson() {}

    /**
     * The value in {@code bytes}.
     *
     * @param what names the input in messages: "request body", "line 7"
     */
    public static JsonNode read(ObjectMapper mapper, byte[] bytes, String what) {
        String text = utf8(mapper, bytes, what);
        JsonNode node;
        try (JsonParser p = mapper.getFactory().createParser(text)) {
            p.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
            node = mapper.readTree(p);
            if (node == null || node.isMissingNode()) {
                throw ApiException.invalid(null, "invalid_json", what + " is empty; expected a JSON object");
            }
            JsonToken extra;
            try {
                extra = p.nextToken();
            } catch (JsonProcessingException e) {
                extra = JsonToken.NOT_AVAILABLE; // garbage that is not even a token
            }
            if (extra != null) {
                throw ApiException.invalid(null, "invalid_json", what + " has data after its JSON value, at "
                        + where(p) + "; send exactly one JSON value");
            }
        } catch (JsonProcessingException e) {
            throw ApiException.invalid(null, "invalid_json", what + " is not valid JSON: " + e.getOriginalMessage()
                    + (e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr()
                    + " column " + e.getLocation().getColumnNr()));
        } catch (IOException e) {
            throw new IllegalStateException("reading JSON from memory: " + e.getMessage(), e);
        }
        refuseNul(node, "", what);
        return node;
    }

    /** {@code bytes} as text: 400 naming the first invalid byte, its offset and the field it lies in. */
    public static String utf8(ObjectMapper mapper, byte[] bytes, String what) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length);
        var result = decoder.decode(in, out, true);
        if (result.isError()) {
            int offset = in.position();
            String field = fieldAt(mapper, bytes, offset);
            throw ApiException.invalid(field, "invalid_utf8", what + " is not valid UTF-8: byte 0x"
                    + String.format("%02X", bytes[offset] & 0xFF) + " at offset " + offset
                    + (field == null ? "" : ", in '" + field + "'"));
        }
        decoder.flush(out);
        return out.flip().toString();
    }

    /** 400 naming {@code param} if {@code s} holds U+0000. */
    public static String noNul(String s, String param) {
        if (s != null && s.indexOf('\0') >= 0) {
            throw nul(param, s.indexOf('\0'), null);
        }
        return s;
    }

    private static void refuseNul(JsonNode node, String path, String what) {
        if (node.isTextual()) {
            int at = node.textValue().indexOf('\0');
            if (at >= 0) {
                throw nul(path.isEmpty() ? null : path, at, what);
            }
        } else if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) {
                refuseNul(node.get(i), path + "[" + i + "]", what);
            }
        } else if (node.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                String child = path.isEmpty() ? e.getKey() : path + "." + e.getKey();
                if (e.getKey().indexOf('\0') >= 0) {
                    throw ApiException.invalid(path.isEmpty() ? null : path, "invalid_characters",
                            (what == null ? "" : what + ": ") + "a key" + (path.isEmpty() ? "" : " of '" + path + "'")
                            + " holds a NUL character (\\u0000), which cannot be stored");
                }
                refuseNul(e.getValue(), child, what);
            }
        }
    }

    private static ApiException nul(String param, int index, String what) {
        return ApiException.invalid(param, "invalid_characters", (what == null ? "" : what + ": ")
                + (param == null ? "the value" : "'" + param + "'") + " holds a NUL character (\\u0000) at index "
                + index + ", which cannot be stored");
    }

    /**
     * The field whose text holds byte {@code offset}: the bytes before it are valid UTF-8, so a streaming parse of
     * them ends inside that field's value, and the parser's context at that point is the field's path.
     */
    private static String fieldAt(ObjectMapper mapper, byte[] bytes, int offset) {
        String prefix = new String(bytes, 0, offset, StandardCharsets.UTF_8);
        try (JsonParser p = mapper.getFactory().createParser(prefix)) {
            try {
                while (p.nextToken() != null) {
                    // walk to the end of the valid prefix
                }
            } catch (JsonProcessingException e) {
                // the prefix ends mid-value: the context says where
            }
            return path(p.getParsingContext());
        } catch (IOException e) {
            return null;
        }
    }

    private static String path(JsonStreamContext ctx) {
        Deque<String> parts = new ArrayDeque<>();
        for (JsonStreamContext c = ctx; c != null && !c.inRoot(); c = c.getParent()) {
            if (c.inArray()) {
                parts.push("[" + Math.max(0, c.getCurrentIndex()) + "]");
            } else if (c.getCurrentName() != null) {
                parts.push("." + c.getCurrentName());
            }
        }
        if (parts.isEmpty()) {
            return null;
        }
        String s = String.join("", parts);
        return s.startsWith(".") ? s.substring(1) : s;
    }

    private static String where(JsonParser p) {
        var l = p.currentLocation();
        return "line " + l.getLineNr() + " column " + l.getColumnNr();
    }
}
