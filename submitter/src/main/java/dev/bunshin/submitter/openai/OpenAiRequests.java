package dev.bunshin.submitter.openai;

import dev.bunshin.submitter.api.ApiException;
import dev.bunshin.submitter.model.ChatTemplates;
import dev.bunshin.submitter.api.Fields;
import dev.bunshin.submitter.jobs.JobSpec;
import dev.bunshin.submitter.jobs.JobSpecs;
import dev.bunshin.submitter.jobs.Sampling;
import dev.bunshin.submitter.model.ServedModel;
import dev.bunshin.submitter.model.ServedModels;
import com.fasterxml.jackson.databind.JsonNode;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Reads OpenAI {@code /v1/completions} and {@code /v1/chat/completions} request bodies into {@link JobSpec}s.
 * Unsupported options that would change the answer (n &gt; 1, echo, logprobs, tools) are refused by name rather
 * than silently ignored.
 */
@ApplicationScoped
public class OpenAiRequests {

    public static final String COMPLETION = "completion";
    public static final String CHAT = "chat";
    static final Set<String> ROLES = Set.of("system", "developer", "user", "assistant", "tool");

    private final ServedModels models;

    OpenAiRequests(ServedModels models) {
        this.models = models;
    }

    public JobSpec completion(Fields f) {
        ServedModel model = models.resolve(f.string("model"), "model");
        common(f);
        if (Boolean.TRUE.equals(f.bool("echo"))) {
            throw ApiException.invalid("echo", "unsupported_parameter", "'echo' is not supported");
        }
        if (f.has("suffix")) {
            throw ApiException.invalid("suffix", "unsupported_parameter", "'suffix' is not supported");
        }
        Integer bestOf = f.integer("best_of");
        if (bestOf != null && bestOf != 1) {
            throw ApiException.invalid("best_of", "unsupported_parameter", "only best_of = 1 is supported, got " + bestOf);
        }
        JsonNode p = f.raw("prompt");
        String prompt;
        if (p != null && p.isArray()) {
            if (p.size() != 1 || !p.get(0).isTextual()) {
                throw ApiException.invalid("prompt", "'prompt' must be a string (or an array of exactly one string)");
            }
            prompt = p.get(0).asText();
        } else {
            prompt = f.string("prompt");
        }
        Sampling sampling = Sampling.OPENAI.read(f);
        return JobSpecs.build(model, COMPLETION, prompt, "prompt", false, f.integer("max_tokens"), "max_tokens",
                sampling, null);
    }

    public JobSpec chat(Fields f) {
        ServedModel model = models.resolve(f.string("model"), "model");
        common(f);
        if (f.has("tools") && f.raw("tools").size() > 0) {
            throw ApiException.invalid("tools", "unsupported_parameter", "'tools' (function calling) is not supported");
        }
        JsonNode rf = f.raw("response_format");
        if (rf != null && !"text".equals(rf.path("type").asText("text"))) {
            throw ApiException.invalid("response_format", "unsupported_parameter",
                    "only response_format {\"type\": \"text\"} is supported");
        }
        List<ChatTemplates.Message> messages = messages(f);
        Sampling sampling = Sampling.OPENAI.read(f);
        String maxParam = f.has("max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
        ChatTemplates.Rendered r = ChatTemplates.render(model, messages, true);
        return JobSpecs.build(model, CHAT, r.prompt(), "messages", true, f.integer(maxParam), maxParam, sampling,
                r.stopTokens());
    }

    /** OpenAI's messages: role + content, content a string or an array of text parts. */
    public static List<ChatTemplates.Message> messages(Fields f) {
        JsonNode ms = f.raw("messages");
        if (ms == null) {
            throw ApiException.missing("messages");
        }
        if (!ms.isArray() || ms.isEmpty()) {
            throw ApiException.invalid("messages", "'messages' must be a non-empty array of {role, content}");
        }
        List<ChatTemplates.Message> out = new ArrayList<>();
        for (int i = 0; i < ms.size(); i++) {
            String at = "messages[" + i + "]";
            JsonNode m = ms.get(i);
            if (!m.isObject()) {
                throw ApiException.invalid(at, "'" + at + "' must be an object {role, content}, got " + m);
            }
            JsonNode role = m.get("role");
            if (role == null || !role.isTextual() || !ROLES.contains(role.asText())) {
                throw ApiException.invalid(at + ".role", "'" + at + ".role' must be one of " + ROLES + ", got " + role);
            }
            out.add(new ChatTemplates.Message(role.asText(), content(m.get("content"), at + ".content")));
        }
        return out;
    }

    static String content(JsonNode c, String param) {
        if (c == null || c.isNull()) {
            return "";
        }
        if (c.isTextual()) {
            return c.asText();
        }
        if (c.isArray()) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < c.size(); i++) {
                JsonNode part = c.get(i);
                if (!"text".equals(part.path("type").asText()) || !part.path("text").isTextual()) {
                    throw ApiException.invalid(param + "[" + i + "]", "unsupported_content",
                            "only text content parts {\"type\": \"text\", \"text\": ...} are supported");
                }
                sb.append(part.get("text").asText());
            }
            return sb.toString();
        }
        throw ApiException.invalid(param, "'" + param + "' must be a string or an array of text parts, got " + c);
    }

    private static void common(Fields f) {
        Integer n = f.integer("n");
        if (n != null && n != 1) {
            throw ApiException.invalid("n", "unsupported_parameter", "only n = 1 is supported, got " + n);
        }
        JsonNode lp = f.raw("logprobs");
        if (lp != null && !(lp.isBoolean() && !lp.asBoolean())) {
            throw ApiException.invalid("logprobs", "unsupported_parameter", "'logprobs' is not supported");
        }
        f.bool("stream");
    }
}
