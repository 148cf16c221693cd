package dev.bunshin.submitter.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bunshin.engine.sample.grammar.Json;
import dev.bunshin.engine.sample.grammar.ResponseFormat;
import dev.bunshin.engine.sample.grammar.UnsupportedSchemaException;
import dev.bunshin.submitter.api.ApiException;
import dev.bunshin.submitter.api.Fields;

/**
 * Reads each API's way of asking for structured output into the engine's one {@link ResponseFormat} (its stored
 * JSON form, what {@code jobs.response_format} holds), and compiles it once at submit time so a schema the tail
 * could not honour is a 400 naming the field path and the keyword ({@code
 * response_format.json_schema.schema.properties.name.pattern}), never a failed job later.
 */
public final class ResponseFormats {

    private ResponseFormats() {
    }

    /**
     * OpenAI's {@code response_format}: {@code {"type": "text"}} (null: free text), {@code {"type": "json_object"}}
     * or {@code {"type": "json_schema", "json_schema": {"name", "schema", "strict", "description"}}}. OpenAI asks
     * that a json_object request mention "JSON" in its messages; Bunshin does not: the constraint alone suffices.
     */
    public static String openAi(Fields f) {
        ObjectNode rf = f.object("response_format");
        if (rf == null) return null;
        JsonNode type = rf.get("type");
        if (type == null || !type.isTextual()) {
            throw ApiException.invalid("response_format.type", "'response_format.type' must be a string, got " + type);
        }
        return switch (type.asText()) {
            case "text" -> null;
            case "json_object" -> validated(ResponseFormat.jsonObject(), "response_format");
            case "json_schema" -> {
                JsonNode js = rf.get("json_schema");
                if (js == null || js.isNull()) throw ApiException.missing("response_format.json_schema");
                if (!js.isObject()) {
                    throw ApiException.invalid("response_format.json_schema",
                            "'response_format.json_schema' must be an object {name, schema, strict}, got " + js);
                }
                JsonNode schema = js.get("schema");
                if (schema == null || schema.isNull()) throw ApiException.missing("response_format.json_schema.schema");
                yield schema(schema, "response_format.json_schema.schema");
            }
            default -> throw ApiException.invalid("response_format.type", "'response_format.type' must be one of text, "
                    + "json_object, json_schema; got " + type);
        };
    }

    /** Ollama's {@code format}: {@code "json"} (any JSON object), a JSON schema object, or absent/"" (free text). */
    public static String ollama(Fields f) {
        JsonNode format = f.raw("format");
        if (format == null || format.isNull() || format.isTextual() && format.asText().isEmpty()) return null;
        if (format.isTextual() && format.asText().equals("json")) return validated(ResponseFormat.jsonObject(), "format");
        if (!format.isObject()) {
            throw ApiException.invalid("format", "'format' must be \"json\" or a JSON schema object, got " + format);
        }
        return schema(format, "format");
    }

    /**
     * The jobs API's {@code response_format}: the stored shape itself ({@code {"type": "json_object"}} or
     * {@code {"type": "json_schema", "schema": {…}}}, optional {@code prefix} and {@code suffix} strings), or
     * OpenAI's shape ({@code "json_schema": {"schema": …}}).
     */
    public static String jobs(Fields f) {
        ObjectNode rf = f.object("response_format");
        if (rf == null) return null;
        JsonNode nested = rf.get("json_schema");
        if (nested != null && nested.isObject() && !rf.has("schema")) {
            String openAi = openAi(f);
            return openAi == null ? null : prefixed(openAi, rf);
        }
        JsonNode type = rf.get("type");
        if (type != null && type.isTextual() && type.asText().equals("text")) return null;
        ResponseFormat format;
        try {
            format = ResponseFormat.parse(rf.toString());
        } catch (UnsupportedSchemaException e) {
            throw unsupported(e, "response_format");
        } catch (IllegalArgumentException e) {
            throw ApiException.invalid("response_format", e.getMessage());
        }
        return validated(format, "response_format.schema");
    }

    private static String prefixed(String stored, ObjectNode rf) {
        JsonNode prefix = rf.get("prefix");
        JsonNode suffix = rf.get("suffix");
        if (prefix == null && suffix == null) return stored;
        ResponseFormat r = ResponseFormat.parse(stored).framed(prefix == null ? "" : prefix.asText(),
                suffix == null ? "" : suffix.asText());
        return validated(r, "response_format");
    }

    private static String schema(JsonNode schema, String field) {
        if (!schema.isObject() && !schema.isBoolean()) {
            throw ApiException.invalid(field, "'" + field + "' must be a JSON schema object, got " + schema);
        }
        return validated(ResponseFormat.jsonSchema(Json.parse(schema.toString())), field);
    }

    /**
     * A tool call as the only reply ({@code tool_choice} "required" or a named function): the stored shape
     * {@code {"type": "json_schema", "schema": {"anyOf": [call per allowed tool]}, "prefix", "suffix"}} built by
     * {@code ToolChoice#constraint}. A tool's parameters the grammar cannot honour are a 400 naming them:
     * {@code toolPath} maps the k-th allowed tool to its field ({@code tools[i].function.parameters}).
     */
    public static String toolCall(java.util.Map<String, Object> stored, java.util.function.IntFunction<String> toolPath) {
        String json;
        try {
            json = new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(stored);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("a tool-call constraint that is not JSON: " + stored, e);
        }
        ResponseFormat format = ResponseFormat.parse(json);
        try {
            format.grammar();
        } catch (UnsupportedSchemaException e) {
            java.util.regex.Matcher m = TOOL_FIELD.matcher(e.field());
            if (!m.matches()) throw unsupported(e, "tools");
            String path = toolPath.apply(Integer.parseInt(m.group(1))) + (m.group(2).isEmpty() ? "" : m.group(2));
            throw ApiException.invalid(path, "unsupported_parameter", "'" + path + "': " + e.getMessage()
                    .replaceFirst("^" + java.util.regex.Pattern.quote(e.path()) + ": ", ""));
        }
        return format.toJson();
    }

    /** Where in a tool-call constraint a refused keyword sits: the k-th call's arguments schema, then the rest. */
    private static final java.util.regex.Pattern TOOL_FIELD =
            java.util.regex.Pattern.compile("anyOf\\.(\\d+)\\.properties\\.(?:arguments|parameters)(.*)");

    /** Compiles the format (refusing what cannot be honoured under {@code field}); returns its stored form. */
    static String validated(ResponseFormat format, String field) {
        try {
            format.grammar();
        } catch (UnsupportedSchemaException e) {
            throw unsupported(e, field);
        }
        return format.toJson();
    }

    private static ApiException unsupported(UnsupportedSchemaException e, String field) {
        String path = field + "." + e.field();
        return ApiException.invalid(path, "unsupported_parameter", "'" + path + "': " + e.getMessage()
                .replaceFirst("^" + java.util.regex.Pattern.quote(e.path()) + ": ", ""));
    }
}
