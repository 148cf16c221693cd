package dev.bunshin.submitter.model;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Parses a model's reply into text and tool calls, in the {@link ToolCallFormat} its template uses (Hermes blocks
 * hold JSON, or Qwen3-Coder's {@code <function=…>} form). A reply whose
 * calls do not parse (a cut-off or malformed JSON object, a call without a name) is plain text, as llama.cpp answers
 * it: nothing is lost, nothing invented.
 */
public final class ToolCalls {

    static final String OPEN = "<tool_call>";
    static final String CLOSE = "</tool_call>";
    static final String PYTHON_TAG = "<|python_tag|>";

    // Trailing tokens fail: "true story" is a string argument, not true.
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    // Reads a sequence of values from one parser (Llama's calls one after another).
    private static final ObjectMapper SEQUENCE = new ObjectMapper();

    /** One call: the function's name and its arguments, a JSON object. */
    public record Call(String name, ObjectNode arguments) {}

    /** @param content the text outside the calls; null when the reply is nothing but calls */
    public record Parsed(String content, List<Call> calls) {

        static Parsed text(String text) {
            return new Parsed(text, List.of());
        }
    }

    private ToolCalls() {}

    public static Parsed parse(String text, ToolCallFormat format) {
        return switch (format) {
            case HERMES, GENERIC -> hermes(text);
            case LLAMA3 -> llama3(text);
        };
    }

    /** Text with {@code <tool_call>…</tool_call>} blocks (the last may lack its close: generation ended there). */
    private static Parsed hermes(String text) {
        int at = text.indexOf(OPEN);
        if (at < 0) {
            return Parsed.text(text);
        }
        StringBuilder content = new StringBuilder(text.substring(0, at).strip());
        List<Call> calls = new ArrayList<>();
        while (at >= 0) {
            int start = at + OPEN.length();
            int end = text.indexOf(CLOSE, start);
            Call c = call(end < 0 ? text.substring(start) : text.substring(start, end), "arguments");
            if (c == null) {
                return Parsed.text(text);
            }
            calls.add(c);
            if (end < 0) {
                break;
            }
            int next = text.indexOf(OPEN, end);
            String between = text.substring(end + CLOSE.length(), next < 0 ? text.length() : next).strip();
            if (!between.isEmpty()) {
                content.append(content.isEmpty() ? "" : "\n").append(between);
            }
            at = next;
        }
        return new Parsed(content.isEmpty() ? null : content.toString(), calls);
    }

    /** A reply that is one or more JSON calls (separated by whitespace or {@code ;}), maybe after the python tag. */
    private static Parsed llama3(String text) {
        String s = text.strip();
        if (s.startsWith(PYTHON_TAG)) {
            s = s.substring(PYTHON_TAG.length()).strip();
        }
        if (!s.startsWith("{")) {
            return Parsed.text(text);
        }
        List<Call> calls = new ArrayList<>();
        try (JsonParser p = SEQUENCE.createParser(s.replace("};", "} "))) {
            while (p.nextToken() != null) {
                JsonNode n = SEQUENCE.readTree(p);
                Call c = n instanceof ObjectNode o ? call(o, "parameters") : null;
                if (c == null) {
                    return Parsed.text(text);
                }
                calls.add(c);
            }
        } catch (IOException e) {
            return Parsed.text(text);
        }
        return calls.isEmpty() ? Parsed.text(text) : new Parsed(null, calls);
    }

    private static Call call(String json, String argumentsKey) {
        if (json.strip().startsWith(FUNCTION)) {
            return xmlCall(json.strip());
        }
        try {
            return JSON.readTree(json.strip()) instanceof ObjectNode o ? call(o, argumentsKey) : null;
        } catch (JsonProcessingException e) {
            return null;
        }
    }

    static final String FUNCTION = "<function=";
    static final String FUNCTION_CLOSE = "</function>";
    static final String PARAMETER = "<parameter=";
    static final String PARAMETER_CLOSE = "</parameter>";

    /**
     * Qwen3-Coder's call inside the {@code <tool_call>} block: {@code <function=NAME>} then per argument
     * {@code <parameter=KEY>\nVALUE\n</parameter>}, then {@code </function>}. A value that reads as JSON (a
     * number, true, an object) is that JSON, any other a string, as llama.cpp converts them without a schema.
     */
    private static Call xmlCall(String s) {
        int nameEnd = s.indexOf('>');
        if (nameEnd < 0 || !s.endsWith(FUNCTION_CLOSE)) {
            return null;
        }
        String name = s.substring(FUNCTION.length(), nameEnd).strip();
        ObjectNode args = JSON.createObjectNode();
        int at = s.indexOf(PARAMETER, nameEnd);
        while (at >= 0) {
            int keyEnd = s.indexOf('>', at);
            int end = s.indexOf(PARAMETER_CLOSE, keyEnd);
            if (keyEnd < 0 || end < 0) {
                return null;
            }
            args.set(s.substring(at + PARAMETER.length(), keyEnd).strip(), xmlValue(s.substring(keyEnd + 1, end)));
            at = s.indexOf(PARAMETER, end);
        }
        return name.isEmpty() ? null : new Call(name, args);
    }

    /**
     * A {@code <parameter=…>} value as it stands between its tags: one newline after the open tag and one before the
     * close are layout; what is left is JSON if it reads as JSON, else a string.
     */
    static JsonNode xmlValue(String raw) {
        String value = raw.startsWith("\n") ? raw.substring(1) : raw;
        value = value.endsWith("\n") ? value.substring(0, value.length() - 1) : value;
        try {
            JsonNode v = JSON.readTree(value);
            if (v != null && !v.isMissingNode()) {
                return v;
            }
        } catch (JsonProcessingException e) {
            // not JSON: a string
        }
        return JSON.getNodeFactory().textNode(value);
    }

    /**
     * {@code {"name": …, "arguments" | "parameters": {…}}} (either key in either format: models mix them up);
     * arguments given as a JSON string are read as the object they hold. Null if it is not a call.
     */
    private static Call call(ObjectNode o, String argumentsKey) {
        JsonNode name = o.get("name");
        if (name == null || !name.isTextual() || name.asText().isBlank()) {
            return null;
        }
        JsonNode args = o.has(argumentsKey) ? o.get(argumentsKey)
                : o.get("arguments".equals(argumentsKey) ? "parameters" : "arguments");
        if (args == null || args.isNull()) {
            return new Call(name.asText(), JSON.createObjectNode());
        }
        if (args.isTextual()) {
            try {
                args = JSON.readTree(args.asText());
            } catch (JsonProcessingException e) {
                return null;
            }
        }
        return args instanceof ObjectNode a ? new Call(name.asText(), a) : null;
    }
}
