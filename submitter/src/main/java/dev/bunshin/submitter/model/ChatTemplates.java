package dev.bunshin.submitter.model;

import dev.bunshin.submitter.api.ApiException;
import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import jinjava.javax.el.CompositeELResolver;

import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Renders a conversation into prompt text with the model's own GGUF {@code tokenizer.chat_template}, a Jinja
 * template, as llama.cpp does with {@code --jinja}: Jinja with trim_blocks and lstrip_blocks, the variables
 * {@code messages}, {@code add_generation_prompt}, {@code bos_token}, {@code eos_token}, and the functions
 * {@code raise_exception} and {@code strftime_now}. A model without a template gets llama.cpp's fallback,
 * ChatML. Like llama.cpp, a BOS the template writes is dropped when the tokenizer adds one anyway.
 *
 * <p>Tools go in as Hugging Face's {@code apply_chat_template(messages, tools=...)} passes them: {@code tools} is the
 * request's list of {@code {"type": "function", "function": {name, description, parameters}}}; an assistant message
 * has {@code tool_calls} ({@code [{id, type, function: {name, arguments}}]}, arguments an object, as Qwen's and
 * Llama's templates {@code tojson} it); a {@code tool} message has {@code tool_call_id} (and {@code name}). A template
 * that knows nothing of tools gets them written into the system message ({@link ToolCallFormat#GENERIC}).
 */
public final class ChatTemplates {

    /**
     * A chat message.
     *
     * @param toolCalls  an assistant's calls, each {@code {id, type: "function", function: {name, arguments}}} with
     *                   arguments a JSON object as plain maps and lists; empty for none
     * @param toolCallId a tool message's call id, or null
     * @param name       a tool message's function name, or null
     */
    public record Message(String role, String content, List<Map<String, Object>> toolCalls, String toolCallId,
                          String name) {

        public Message(String role, String content) {
            this(role, content, List.of(), null, null);
        }

        /** As templates see it: keys only for what the message has (Llama 3.1 asks {@code 'tool_calls' in message}). */
        Map<String, Object> toTemplate() {
            Map<String, Object> m = new HashMap<>();
            m.put("role", role);
            m.put("content", content);
            if (!toolCalls.isEmpty()) {
                m.put("tool_calls", toolCalls);
            }
            if (toolCallId != null) {
                m.put("tool_call_id", toolCallId);
            }
            if (name != null) {
                m.put("name", name);
            }
            return m;
        }
    }

    /** The rendered prompt and the end-of-turn token ids that end the assistant's reply. */
    public record Rendered(String prompt, int[] stopTokens) {}

    private static final Jinjava JINJA = create();

    private ChatTemplates() {}

    private static Jinjava create() {
        CompositeELResolver resolver = new CompositeELResolver();
        resolver.add(new PythonMethods());
        resolver.add(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_ONLY);
        JinjavaConfig config = JinjavaConfig.newBuilder()
                .withTrimBlocks(true)
                .withLstripBlocks(true)
                .withElResolver(resolver)
                .withLegacyOverrides(LegacyOverrides.newBuilder()
                        .withUseTrimmingForNotesAndExpressions(true)
                        .withUseNaturalOperatorPrecedence(true)
                        .withParseWhitespaceControlStrictly(true)
                        .withKeepNullableLoopValues(true)
                        .build())
                .build();
        Jinjava j = new Jinjava(config);
        j.getGlobalContext().registerFunction(new ELFunctionDefinition("", "raise_exception", ChatTemplates.class,
                "raiseException", String.class));
        j.getGlobalContext().registerFunction(new ELFunctionDefinition("", "strftime_now", ChatTemplates.class,
                "strftimeNow", String.class));
        j.getGlobalContext().registerFilter(new PythonJson());
        j.getGlobalContext().registerExpTest(new PythonIterable());
        return j;
    }

    /** Renders with the model's template (or ChatML); errors, including the template's own raise_exception, are 400s. */
    public static Rendered render(ServedModel model, List<Message> messages, boolean addGenerationPrompt) {
        return render(model, messages, null, addGenerationPrompt);
    }

    /**
     * Renders with tools ({@code tools}: the request's tool objects as plain maps and lists; null or empty: none).
     * With tools and a template that does not render them, they go into the system message first.
     */
    public static Rendered render(ServedModel model, List<Message> messages, List<Object> tools,
                                  boolean addGenerationPrompt) {
        String template = model.chatTemplate();
        boolean withTools = tools != null && !tools.isEmpty();
        if (withTools && ToolCallFormat.of(template, "tools") == ToolCallFormat.GENERIC) {
            messages = GenericTools.inline(messages, tools);
            tools = null;
        }
        String prompt = template == null
                ? chatml(messages, addGenerationPrompt)
                : render(template, messages, tools, addGenerationPrompt, model.bosText(), model.eosText());
        if (model.tokenizer().addsBos() && !model.bosText().isEmpty() && prompt.startsWith(model.bosText())) {
            prompt = prompt.substring(model.bosText().length());
        }
        return new Rendered(prompt, model.endOfTurnTokens(template == null ? "<|im_end|>" : template));
    }

    /** Renders a Jinja chat template. */
    public static String render(String template, List<Message> messages, boolean addGenerationPrompt,
                                String bosToken, String eosToken) {
        return render(template, messages, null, addGenerationPrompt, bosToken, eosToken);
    }

    /** Renders a Jinja chat template with tools (null or empty: none, and {@code tools} is left undefined). */
    public static String render(String template, List<Message> messages, List<Object> tools, boolean addGenerationPrompt,
                                String bosToken, String eosToken) {
        Map<String, Object> ctx = new HashMap<>();
        ctx.put("messages", messages.stream().map(Message::toTemplate).toList());
        if (tools != null && !tools.isEmpty()) {
            ctx.put("tools", tools);
        }
        ctx.put("add_generation_prompt", addGenerationPrompt);
        ctx.put("bos_token", bosToken);
        ctx.put("eos_token", eosToken);
        RenderResult r;
        String raised;
        try {
            r = JINJA.renderForResult(pythonReadings(template), ctx);
        } finally {
            raised = RAISED.get();
            RAISED.remove();
        }
        if (raised != null) {
            throw ApiException.invalid("messages", "chat_template_error",
                    "the model's chat template refused the conversation: " + raised);
        }
        for (TemplateError e : r.getErrors()) {
            if (e.getSeverity() == TemplateError.ErrorType.FATAL) {
                throw ApiException.invalid("messages", "chat_template_error", "the model's chat template failed: "
                        + e.getMessage() + (e.getLineno() > 0 ? " (template line " + e.getLineno() + ")" : ""));
            }
        }
        return r.getOutput();
    }

    /**
     * The template rewritten where Jinjava parses Jinja differently from Python's Jinja (which the templates were
     * written for): {@code not x is test}, named values in {@code namespace(...)}, and {@code x[::-1]}.
     */
    static String pythonReadings(String template) {
        return REVERSED.matcher(namespaceValuesInBrackets(notBindsLooserThanIs(template))).replaceAll("($1|reverse)");
    }

    /** {@code messages[::-1]} (Qwen 3), a step Jinjava's slices lack: the {@code reverse} filter. */
    private static final Pattern REVERSED = Pattern.compile("([A-Za-z_][\\w.]*)\\[::-1\\]");

    /** {@code not x is defined}, with a plain name or attribute path for x, and any test (also {@code is not none}). */
    private static final Pattern NOT_IS = Pattern.compile(
            "\\bnot\\s+([A-Za-z_][\\w.]*(?:\\[['\"]?\\w+['\"]?\\])*)\\s+is\\s+(not\\s+)?([A-Za-z_]\\w*)");

    /**
     * In Jinja {@code not} binds looser than a test: {@code not tools is defined} is {@code not (tools is defined)}.
     * Jinjava reads {@code (not tools) is defined}, always true, so Llama 3.1's template would drop the tools it is
     * given ({@code {%- if not tools is defined %}{%- set tools = none %}}). Brackets make Python's reading explicit.
     */
    static String notBindsLooserThanIs(String template) {
        return NOT_IS.matcher(template).replaceAll(m -> Matcher.quoteReplacement(
                "not (" + m.group(1) + " is " + (m.group(2) == null ? "" : "not ") + m.group(3) + ")"));
    }

    /**
     * Jinjava reads {@code namespace(last_query_index=messages|length - 1)} as {@code (last_query_index=…|length) - 1}
     * and fails (Qwen 3's templates open with it); Jinja binds the whole expression to the name. Brackets around each
     * named value of a {@code namespace(...)} call make that explicit.
     */
    static String namespaceValuesInBrackets(String template) {
        StringBuilder out = new StringBuilder();
        int from = 0;
        for (int at = template.indexOf("namespace("); at >= 0; at = template.indexOf("namespace(", from)) {
            int open = at + "namespace(".length();
            out.append(template, from, open);
            List<String> args = new ArrayList<>();
            int depth = 0;
            int start = open;
            char quote = 0;
            int i = open;
            for (; i < template.length(); i++) {
                char c = template.charAt(i);
                if (quote != 0) {
                    quote = c == quote ? 0 : quote;
                } else if (c == '\'' || c == '"') {
                    quote = c;
                } else if (c == '(' || c == '[' || c == '{') {
                    depth++;
                } else if ((c == ')' || c == ']' || c == '}') && depth > 0) {
                    depth--;
                } else if (c == ',' && depth == 0 || c == ')') {
                    args.add(template.substring(start, i));
                    start = i + 1;
                    if (c == ')') {
                        break;
                    }
                }
            }
            if (i == template.length()) {
                return template; // unbalanced: leave it to Jinjava's own error
            }
            for (int k = 0; k < args.size(); k++) {
                String a = args.get(k);
                int eq = a.indexOf('=');
                boolean named = eq > 0 && a.substring(0, eq).strip().matches("[A-Za-z_]\\w*")
                        && (eq + 1 >= a.length() || a.charAt(eq + 1) != '=');
                out.append(k == 0 ? "" : ",").append(named ? a.substring(0, eq + 1) + "(" + a.substring(eq + 1).strip() + ")" : a);
            }
            out.append(')');
            from = i + 1;
        }
        return out.append(template.substring(from)).toString();
    }

    /** llama.cpp's built-in ChatML format. */
    public static String chatml(List<Message> messages, boolean addGenerationPrompt) {
        StringBuilder sb = new StringBuilder();
        for (Message m : messages) {
            sb.append("<|im_start|>").append(m.role()).append('\n').append(m.content()).append("<|im_end|>\n");
        }
        if (addGenerationPrompt) {
            sb.append("<|im_start|>assistant\n");
        }
        return sb.toString();
    }

    /** What the template's raise_exception said during this thread's render (Jinjava wraps the exception away). */
    private static final ThreadLocal<String> RAISED = new ThreadLocal<>();

    public static String raiseException(String message) {
        RAISED.set(message);
        throw new IllegalArgumentException(message);
    }

    public static String strftimeNow(String format) {
        return LocalDateTime.now().format(DateTimeFormatter.ofPattern(pythonToJava(format)));
    }

    /** The strftime directives templates use for dates ({@code "%d %b %Y"}), as a DateTimeFormatter pattern. */
    static String pythonToJava(String f) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < f.length(); i++) {
            char c = f.charAt(i);
            if (c == '%' && i + 1 < f.length()) {
                char d = f.charAt(++i);
                sb.append(switch (d) {
                    case 'd' -> "dd";
                    case 'm' -> "MM";
                    case 'Y' -> "yyyy";
                    case 'y' -> "yy";
                    case 'b' -> "MMM";
                    case 'B' -> "MMMM";
                    case 'a' -> "EEE";
                    case 'A' -> "EEEE";
                    case 'H' -> "HH";
                    case 'M' -> "mm";
                    case 'S' -> "ss";
                    case '%' -> "'%'";
                    default -> "'%" + d + "'";
                });
            } else if (Character.isLetter(c)) {
                sb.append('\'').append(c).append('\'');
            } else {
                sb.append(c == '\'' ? "''" : String.valueOf(c));
            }
        }
        return sb.toString();
    }
}
