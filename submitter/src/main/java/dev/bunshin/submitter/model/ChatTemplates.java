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
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Renders a conversation into prompt text with the model's own GGUF {@code tokenizer.chat_template}, a Jinja
 * template, as llama.cpp does with {@code --jinja}: Jinja with trim_blocks and lstrip_blocks, the variables
 * {@code messages}, {@code add_generation_prompt}, {@code bos_token}, {@code eos_token}, and the functions
 * {@code raise_exception} and {@code strftime_now}. A model without a template gets llama.cpp's fallback,
 * ChatML. Like llama.cpp, a BOS the template writes is dropped when the tokenizer adds one anyway.
 */
public final class ChatTemplates {

    /** A chat message. */
    public record Message(String role, String content) {}

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
        return j;
    }

    /** Renders with the model's template (or ChatML); errors, including the template's own raise_exception, are 400s. */
    public static Rendered render(ServedModel model, List<Message> messages, boolean addGenerationPrompt) {
        String template = model.chatTemplate();
        String prompt = template == null
                ? chatml(messages, addGenerationPrompt)
                : render(template, messages, addGenerationPrompt, model.bosText(), model.eosText());
        if (model.tokenizer().addsBos() && !model.bosText().isEmpty() && prompt.startsWith(model.bosText())) {
            prompt = prompt.substring(model.bosText().length());
        }
        return new Rendered(prompt, model.endOfTurnTokens(template == null ? "<|im_end|>" : template));
    }

    /** Renders a Jinja chat template. */
    public static String render(String template, List<Message> messages, boolean addGenerationPrompt,
                                String bosToken, String eosToken) {
        Map<String, Object> ctx = new HashMap<>();
        ctx.put("messages", messages.stream().map(m -> {
            Map<String, Object> mm = new HashMap<>();
            mm.put("role", m.role());
            mm.put("content", m.content());
            return mm;
        }).toList());
        ctx.put("add_generation_prompt", addGenerationPrompt);
        ctx.put("bos_token", bosToken);
        ctx.put("eos_token", eosToken);
        RenderResult r;
        String raised;
        try {
            r = JINJA.renderForResult(template, ctx);
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
