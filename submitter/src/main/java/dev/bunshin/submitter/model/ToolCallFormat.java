package dev.bunshin.submitter.model;

import dev.bunshin.submitter.api.ApiException;

/**
 * How a model writes a tool call, read from its chat template as llama.cpp's chat parser does: by the markers the
 * template's tool section writes (common/chat.cpp detects Hermes 2 Pro by {@code <tool_call>} and Llama 3.x by its
 * {@code ipython} role or {@code <|python_tag|>}).
 */
public enum ToolCallFormat {

    /**
     * Hermes 2 Pro, Qwen 2.5, Qwen 3: each call on its own,
     * {@code <tool_call>\n{"name": "f", "arguments": {...}}\n</tool_call>}, possibly after some text.
     */
    HERMES("<tool_call>\n", "\n</tool_call>", "arguments"),

    /**
     * Llama 3.1, 3.2, 3.3: the whole reply is {@code {"name": "f", "parameters": {...}}}, possibly after
     * {@code <|python_tag|>}.
     */
    LLAMA3("", "", "parameters"),

    /**
     * A template that knows nothing of tools (or none at all, so ChatML): Bunshin writes the tools and Hermes'
     * instructions into the system message itself ({@link ChatTemplates}) and parses Hermes calls — llama.cpp's
     * fallback for such models is likewise a generic tool prompt.
     */
    GENERIC("<tool_call>\n", "\n</tool_call>", "arguments");

    /** Literal text a constrained call starts and ends with (the text around its JSON object). */
    public final String prefix;
    public final String suffix;
    /** The key the call's arguments object has in the model's output. */
    public final String argumentsKey;

    ToolCallFormat(String prefix, String suffix, String argumentsKey) {
        this.prefix = prefix;
        this.suffix = suffix;
        this.argumentsKey = argumentsKey;
    }

    /** The jobs column value ({@code jobs.tool_call_format}). */
    public String sql() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    /** The format a jobs row names; null for null (a job without tools). */
    public static ToolCallFormat ofSql(String value) {
        return value == null ? null : valueOf(value.toUpperCase(java.util.Locale.ROOT));
    }

    /**
     * The format of a model's template (null: no template, ChatML). A template that renders tools in a format not
     * parsed here is refused by naming {@code param}, rather than answered with calls left as text.
     */
    public static ToolCallFormat of(String template, String param) {
        if (template == null || !template.contains("tools")) {
            return GENERIC;
        }
        if (template.contains("<tool_call>")) {
            return HERMES;
        }
        if (template.contains("<|python_tag|>") || template.contains("ipython")) {
            return LLAMA3;
        }
        throw ApiException.invalid(param, "unsupported_parameter", "the model's chat template writes tool calls in a "
                + "format Bunshin does not parse yet (parsed: Hermes/Qwen <tool_call>, Llama 3.x JSON); leave '" + param
                + "' out");
    }
}
