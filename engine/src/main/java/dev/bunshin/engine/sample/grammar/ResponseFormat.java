package dev.bunshin.engine.sample.grammar;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * What a job's output must be, as stored in {@code jobs.response_format} (V21): {@code {"type": "json_object"}} or
 * {@code {"type": "json_schema", "schema": {…}}}, either with optional literal {@code "prefix"} and
 * {@code "suffix"} forced around the document (a tool call's {@code <tool_call>\n … \n</tool_call>}). The API
 * layers translate OpenAI's {@code response_format} and Ollama's {@code format} into this one shape.
 *
 * @param type   {@code json_object} or {@code json_schema}
 * @param schema the JSON Schema as {@link Json#parse} reads it; null for {@code json_object}
 */
public record ResponseFormat(String type, Object schema, String prefix, String suffix) {

    public static final String JSON_OBJECT = "json_object";
    public static final String JSON_SCHEMA = "json_schema";

    public ResponseFormat {
        Objects.requireNonNull(type, "type == null");
        prefix = prefix == null ? "" : prefix;
        suffix = suffix == null ? "" : suffix;
        if (type.equals(JSON_SCHEMA) && schema == null) {
            throw new UnsupportedSchemaException("", "schema", "a json_schema response format needs a 'schema'");
        }
        if (!type.equals(JSON_SCHEMA) && !type.equals(JSON_OBJECT)) {
            throw new UnsupportedSchemaException("", "type", "response format type must be json_object or json_schema, got '"
                    + type + "'");
        }
    }

    /** Any JSON object. */
    public static ResponseFormat jsonObject() {
        return new ResponseFormat(JSON_OBJECT, null, "", "");
    }

    /** A document {@code schema} accepts. */
    public static ResponseFormat jsonSchema(Object schema) {
        return new ResponseFormat(JSON_SCHEMA, schema, "", "");
    }

    /** Reads the stored form. */
    public static ResponseFormat parse(String json) {
        if (!(Json.parse(json) instanceof Map<?, ?> m)) {
            throw new IllegalArgumentException("a response format is a JSON object, got " + json);
        }
        Object type = m.get("type");
        Object prefix = m.get("prefix");
        Object suffix = m.get("suffix");
        if (!(type instanceof String t)) throw new UnsupportedSchemaException("", "type", "'type' must be a string, got " + type);
        if (prefix != null && !(prefix instanceof String)) throw new UnsupportedSchemaException("", "prefix", "'prefix' must be a string");
        if (suffix != null && !(suffix instanceof String)) throw new UnsupportedSchemaException("", "suffix", "'suffix' must be a string");
        return new ResponseFormat(t, m.get("schema"), (String) prefix, (String) suffix);
    }

    /** The same format between {@code prefix} and {@code suffix}. */
    public ResponseFormat framed(String prefix, String suffix) {
        return new ResponseFormat(type, schema, prefix, suffix);
    }

    /** The stored form (compact JSON; the fields this record holds, in a fixed order). */
    public String toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", type);
        if (schema != null) m.put("schema", schema);
        if (!prefix.isEmpty()) m.put("prefix", prefix);
        if (!suffix.isEmpty()) m.put("suffix", suffix);
        return Json.write(m);
    }

    /**
     * The byte grammar of the documents this format allows.
     *
     * @throws UnsupportedSchemaException naming the schema keyword it cannot honour
     */
    public Grammar grammar() {
        return type.equals(JSON_OBJECT) ? JsonGrammar.object(prefix, suffix) : JsonGrammar.schema(schema, prefix, suffix);
    }
}
