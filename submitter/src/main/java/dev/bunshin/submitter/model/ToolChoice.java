package dev.bunshin.submitter.model;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * OpenAI's {@code tool_choice}: {@code "none"} (the tools are not shown to the model), {@code "auto"} (the model
 * decides; the default), {@code "required"} (at least one call) or one named function. The last two only hold if
 * sampling is constrained to a call: {@link #constraint} builds that constraint as the tail's structured-output
 * job field expects it ({@code jobs.response_format}: a JSON schema and literal text forced before and after the
 * document).
 *
 * @param function the one function a named choice allows, else null
 */
public record ToolChoice(Mode mode, String function) {

    public enum Mode { NONE, AUTO, REQUIRED }

    public static final ToolChoice AUTO = new ToolChoice(Mode.AUTO, null);

    /**
     * Whether the tail can constrain sampling to a JSON schema ({@code jobs.response_format}, issue 12's structured
     * output): it can, so {@code "required"} and a named function become {@link #constraint} (OpenAiRequests#chat).
     * Were it false, they would be refused with a 400, never answered with a reply that may not call anything.
     */
    public static final boolean CONSTRAINED_SAMPLING = true;

    /** Whether this choice needs sampling constrained to a call. */
    public boolean constrains() {
        return mode == Mode.REQUIRED;
    }

    /**
     * The constraint that makes the reply one call of an allowed tool:
     * {@code {"type": "json_schema", "schema": {"anyOf": [call schema per tool]}, "prefix": …, "suffix": …}}, where a
     * call schema is {@code {"type": "object", "properties": {"name": {"const": NAME}, ARGS: PARAMETERS},
     * "required": ["name", ARGS], "additionalProperties": false}} and ARGS the format's arguments key; prefix and
     * suffix are the format's text around a call (Hermes: {@code <tool_call>\n} … {@code \n</tool_call>}).
     *
     * @param tools the request's tools, {@code {"type": "function", "function": {name, parameters}}} as plain maps
     */
    public Map<String, Object> constraint(List<Object> tools, ToolCallFormat format) {
        List<Object> calls = new ArrayList<>();
        for (Object t : tools) {
            Map<?, ?> f = (Map<?, ?>) ((Map<?, ?>) t).get("function");
            String name = (String) f.get("name");
            if (function != null && !function.equals(name)) {
                continue;
            }
            Object parameters = f.get("parameters");
            Map<String, Object> properties = new LinkedHashMap<>();
            properties.put("name", Map.of("const", name));
            properties.put(format.argumentsKey, parameters == null ? Map.of("type", "object") : parameters);
            Map<String, Object> call = new LinkedHashMap<>();
            call.put("type", "object");
            call.put("properties", properties);
            call.put("required", List.of("name", format.argumentsKey));
            call.put("additionalProperties", false);
            calls.add(call);
        }
        if (calls.isEmpty()) {
            throw new IllegalArgumentException("tool_choice names function " + function + ", which is not in tools");
        }
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("type", "json_schema");
        c.put("schema", Map.of("anyOf", calls));
        c.put("prefix", format.prefix);
        c.put("suffix", format.suffix);
        return c;
    }
}
