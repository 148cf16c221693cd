package dev.bunshin.submitter.openai;

import dev.bunshin.submitter.api.ApiException;
import dev.bunshin.submitter.api.Fields;
import dev.bunshin.submitter.model.ToolCallFormat;
import dev.bunshin.submitter.model.ToolChoice;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a request's {@code tools} and {@code tool_choice} (OpenAI's chat and Ollama's chat share the tool shape
 * {@code {"type": "function", "function": {name, description, parameters}}}) and the {@code tool_calls} of its
 * assistant messages, into what {@link dev.bunshin.submitter.model.ChatTemplates} renders.
 *
 * @param tools  the tools as plain maps and lists, in the request's order; empty when none (or tool_choice none)
 * @param format how the model writes calls; null when there are no tools to call
 */
public record ToolRequests(List<Object> tools, ToolChoice choice, ToolCallFormat format) {

    static final ToolRequests NONE = new ToolRequests(List.of(), ToolChoice.AUTO, null);
    private static final ObjectMapper JSON = new ObjectMapper();

    public boolean any() {
        return !tools.isEmpty();
    }

    /** The request's {@code tools} and {@code tool_choice}, checked; the model's template decides the format. */
    public static ToolRequests read(Fields f, String template) {
        ArrayNode array = f.array("tools");
        ToolChoice choice = choice(f.raw("tool_choice"));
        if (array == null || array.isEmpty()) {
            if (choice.constrains()) {
                throw ApiException.invalid("tool_choice", "'tool_choice' " + f.raw("tool_choice")
                        + " needs tools, but 'tools' is " + (array == null ? "missing" : "empty"));
            }
            return NONE;
        }
        List<Object> tools = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (int i = 0; i < array.size(); i++) {
            String at = "tools[" + i + "]";
            JsonNode t = array.get(i);
            if (!t.isObject() || !"function".equals(t.path("type").asText())) {
                throw ApiException.invalid(at + ".type", "unsupported_parameter", "'" + at
                        + "' must be {\"type\": \"function\", \"function\": {...}} (only function tools are supported), got " + t);
            }
            JsonNode fn = t.get("function");
            if (fn == null || !fn.isObject() || !fn.path("name").isTextual() || fn.get("name").asText().isBlank()) {
                throw ApiException.invalid(at + ".function.name", "'" + at + ".function.name' must be a non-empty string, got "
                        + (fn == null ? null : fn.get("name")));
            }
            JsonNode params = fn.get("parameters");
            if (params != null && !params.isNull() && !params.isObject()) {
                throw ApiException.invalid(at + ".function.parameters", "'" + at
                        + ".function.parameters' must be a JSON schema object, got " + params);
            }
            names.add(fn.get("name").asText());
            tools.add(JSON.convertValue(t, Object.class));
        }
        if (choice.function() != null && !names.contains(choice.function())) {
            throw ApiException.invalid("tool_choice.function.name", "'tool_choice.function.name' is "
                    + choice.function() + ", which is not among the tools " + names);
        }
        if (choice.mode() == ToolChoice.Mode.NONE) {
            return NONE;
        }
        ToolCallFormat format = ToolCallFormat.of(template, "tools");
        if (choice.constrains() && !ToolChoice.CONSTRAINED_SAMPLING) {
            throw ApiException.invalid("tool_choice", "unsupported_parameter", "'tool_choice' " + f.raw("tool_choice")
                    + " needs constrained sampling, which is not supported yet; use \"auto\" (the default) or \"none\"");
        }
        return new ToolRequests(tools, choice, format);
    }

    /** "none" | "auto" | "required" | {"type": "function", "function": {"name": …}}; absent: auto. */
    static ToolChoice choice(JsonNode v) {
        if (v == null || v.isNull()) {
            return ToolChoice.AUTO;
        }
        if (v.isTextual()) {
            return switch (v.asText()) {
                case "none" -> new ToolChoice(ToolChoice.Mode.NONE, null);
                case "auto" -> ToolChoice.AUTO;
                case "required" -> new ToolChoice(ToolChoice.Mode.REQUIRED, null);
                default -> throw ApiException.invalid("tool_choice", "'tool_choice' must be \"none\", \"auto\", "
                        + "\"required\" or {\"type\": \"function\", \"function\": {\"name\": ...}}, got " + v);
            };
        }
        JsonNode name = v.path("function").path("name");
        if (!v.isObject() || !"function".equals(v.path("type").asText()) || !name.isTextual()) {
            throw ApiException.invalid("tool_choice", "'tool_choice' must be \"none\", \"auto\", \"required\" or "
                    + "{\"type\": \"function\", \"function\": {\"name\": ...}}, got " + v);
        }
        return new ToolChoice(ToolChoice.Mode.REQUIRED, name.asText());
    }

    /**
     * An assistant message's {@code tool_calls} as templates take them: {@code {id, type, function: {name,
     * arguments}}} with arguments an object. OpenAI sends arguments as a JSON string, Ollama as an object; a string
     * that is not JSON stays a string.
     */
    static List<Map<String, Object>> calls(JsonNode toolCalls, String at) {
        if (toolCalls == null || toolCalls.isNull()) {
            return List.of();
        }
        if (!toolCalls.isArray()) {
            throw ApiException.invalid(at, "'" + at + "' must be an array of tool calls, got " + toolCalls);
        }
        List<Map<String, Object>> out = new ArrayList<>();
        for (int i = 0; i < toolCalls.size(); i++) {
            String here = at + "[" + i + "]";
            JsonNode c = toolCalls.get(i);
            JsonNode fn = c.path("function");
            if (!fn.path("name").isTextual()) {
                throw ApiException.invalid(here + ".function.name", "'" + here
                        + ".function.name' must be a string, got " + fn.get("name"));
            }
            JsonNode args = fn.get("arguments");
            Object arguments;
            if (args == null || args.isNull()) {
                arguments = Map.of();
            } else if (args.isTextual()) {
                try {
                    arguments = JSON.readValue(args.asText(), Object.class);
                } catch (java.io.IOException e) {
                    arguments = args.asText();
                }
            } else {
                arguments = JSON.convertValue(args, Object.class);
            }
            Map<String, Object> function = new LinkedHashMap<>();
            function.put("name", fn.get("name").asText());
            function.put("arguments", arguments);
            Map<String, Object> call = new LinkedHashMap<>();
            call.put("id", c.path("id").isTextual() ? c.get("id").asText() : "call_" + i);
            call.put("type", "function");
            call.put("function", function);
            out.add(call);
        }
        return out;
    }
}
