package dev.bunshin.submitter.openai;

import dev.bunshin.engine.sample.TokenLogprobs;
import dev.bunshin.submitter.api.ApiException;
import dev.bunshin.submitter.model.ChatTemplates;
import dev.bunshin.submitter.api.Fields;
import dev.bunshin.submitter.jobs.JobSpec;
import dev.bunshin.submitter.jobs.JobSpecs;
import dev.bunshin.submitter.jobs.MaxTokens;
import dev.bunshin.submitter.jobs.ResponseFormats;
import dev.bunshin.submitter.jobs.Sampling;
import dev.bunshin.submitter.model.ServedModel;
import dev.bunshin.submitter.model.ServedModels;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads OpenAI {@code /v1/completions} and {@code /v1/chat/completions} request bodies into {@link JobSpec}s.
 * Unsupported options that would change the answer (n &gt; 1, echo, the legacy functions) are refused by name rather
 * than silently ignored. Tools ({@link ToolRequests}) are rendered through the model's chat template and the job
 * remembers the format its calls come in, so that every answer of it (blocking, streamed, a batch's output line) has
 * them as {@code tool_calls}. Logprobs: chat's {@code logprobs: true} with {@code top_logprobs} 0..20 alternatives, the legacy
 * completions' {@code logprobs} 0..20 (OpenAI allows 5; more is accepted) become {@link JobSpec#logprobs}.
 * {@code response_format} (json_object, json_schema) becomes {@link JobSpec#responseFormat} ({@link ResponseFormats}).
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
        Integer logprobs = f.integer("logprobs");
        if (logprobs != null) top(logprobs, "logprobs");
        Sampling sampling = Sampling.OPENAI.read(f);
        String format = ResponseFormats.openAi(f);
        return JobSpecs.build(model, COMPLETION, prompt, "prompt", false, MaxTokens.of(f.integer("max_tokens"), "max_tokens"),
                sampling, null).withLogprobs(logprobs).withResponseFormat(format);
    }

    public JobSpec chat(Fields f) {
        ServedModel model = models.resolve(f.string("model"), "model");
        common(f);
        ToolRequests tools = ToolRequests.read(f, model.chatTemplate());
        f.array("functions");
        f.unsupportedUnlessEmpty("functions", "the legacy function calling (use 'tools')");
        functionCall(f);
        boolean single = Boolean.FALSE.equals(f.bool("parallel_tool_calls"));
        String format = ResponseFormats.openAi(f);
        boolean logprobs = Boolean.TRUE.equals(f.bool("logprobs"));
        Integer topLogprobs = f.integer("top_logprobs");
        if (topLogprobs != null) {
            top(topLogprobs, "top_logprobs");
            if (!logprobs) {
                throw ApiException.invalid("top_logprobs", "'top_logprobs' needs 'logprobs': true, got top_logprobs "
                        + topLogprobs + " with logprobs " + f.raw("logprobs"));
            }
        }
        ArrayNode modalities = f.array("modalities");
        if (modalities != null && !(modalities.isEmpty() || modalities.size() == 1 && "text".equals(modalities.get(0).asText()))) {
            throw ApiException.invalid("modalities", "unsupported_parameter", "only modalities [\"text\"] are supported, got "
                    + modalities);
        }
        f.unsupportedUnlessEmpty("audio", "audio output");
        f.unsupportedUnlessEmpty("prediction", "predicted outputs");
        f.bool("store");
        f.object("metadata");
        f.string("service_tier");
        f.string("reasoning_effort");
        List<ChatTemplates.Message> messages = messages(f);
        Sampling sampling = Sampling.OPENAI.read(f);
        Integer maxTokens = f.integer("max_tokens");
        Integer maxCompletion = f.integer("max_completion_tokens");
        MaxTokens max = maxCompletion != null ? MaxTokens.of(maxCompletion, "max_completion_tokens")
                : MaxTokens.of(maxTokens, "max_tokens");
        ChatTemplates.Rendered r = ChatTemplates.render(model, messages, tools.tools(), true);
        // tool_choice "required" or a named function: the reply must be one call, by the same constrained sampling
        // as a response_format (so a request cannot have both).
        if (tools.choice().constrains()) {
            if (format != null) {
                throw ApiException.invalid("tool_choice", "'tool_choice' " + tools.choice().mode().name().toLowerCase()
                        + " constrains the reply to a tool call; it cannot be combined with 'response_format'");
            }
            List<Object> all = tools.tools();
            String named = tools.choice().function();
            format = ResponseFormats.toolCall(tools.choice().constraint(all, tools.format()), k -> "tools["
                    + (named == null ? k : namedIndex(all, named)) + "].function.parameters");
        }
        return JobSpecs.build(model, CHAT, r.prompt(), "messages", true, max, sampling, r.stopTokens())
                .withLogprobs(logprobs ? (topLogprobs == null ? 0 : topLogprobs) : null)
                .withToolCalls(tools.format()).withResponseFormat(format).withSingleToolCall(single);
    }

    /** The index in {@code tools} of the function named {@code name}. */
    private static int namedIndex(List<Object> tools, String name) {
        for (int i = 0; i < tools.size(); i++) {
            Object f = ((Map<?, ?>) tools.get(i)).get("function");
            if (f instanceof Map<?, ?> fm && name.equals(fm.get("name"))) return i;
        }
        return -1;
    }

    /** A number of alternatives per token: 0..{@link TokenLogprobs#MAX_TOP}. */
    private static void top(int k, String name) {
        if (k < 0 || k > TokenLogprobs.MAX_TOP) {
            throw ApiException.invalid(name, "'" + name + "' must be between 0 and " + TokenLogprobs.MAX_TOP
                    + ", got " + k);
        }
    }

    /** The legacy {@code function_call}: "none" or "auto" (there are no legacy functions to call). */
    private static void functionCall(Fields f) {
        String name = "function_call";
        JsonNode v = f.raw(name);
        if (v == null) {
            return;
        }
        if (!v.isTextual() && !v.isObject()) {
            throw ApiException.invalid(name, "'" + name + "' must be a string or an object, got " + v);
        }
        if (v.isObject() || !Set.of("none", "auto").contains(v.asText())) {
            throw ApiException.invalid(name, "unsupported_parameter", "'" + name + "' " + v
                    + " needs the legacy function calling, which is not supported (use 'tools' and 'tool_choice'); "
                    + "only \"none\" and \"auto\" are accepted");
        }
    }

    /**
     * OpenAI's messages (and Ollama's): role + content, content a string or an array of text parts; an assistant's
     * {@code tool_calls}, a tool message's {@code tool_call_id} and {@code name} (Ollama: {@code tool_name}).
     */
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
            JsonNode name = m.get("name");
            if (name != null && !name.isNull() && !name.isTextual()) {
                throw ApiException.invalid(at + ".name", "'" + at + ".name' must be a string, got " + name);
            }
            JsonNode callId = m.get("tool_call_id");
            if (callId != null && !callId.isNull() && !callId.isTextual()) {
                throw ApiException.invalid(at + ".tool_call_id", "'" + at + ".tool_call_id' must be a string, got " + callId);
            }
            JsonNode toolName = name != null && name.isTextual() ? name : m.get("tool_name");
            out.add(new ChatTemplates.Message(role.asText(), content(m.get("content"), at + ".content"),
                    ToolRequests.calls(m.get("tool_calls"), at + ".tool_calls"),
                    callId != null && callId.isTextual() ? callId.asText() : null,
                    "tool".equals(role.asText()) && toolName != null && toolName.isTextual() ? toolName.asText() : null));
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

    /** The fields both endpoints share that are not sampling fields. */
    private static void common(Fields f) {
        Integer n = f.integer("n");
        if (n != null && n != 1) {
            throw ApiException.invalid("n", "unsupported_parameter", "only n = 1 is supported, got " + n);
        }
        ObjectNode bias = f.object("logit_bias");
        if (bias != null && !bias.isEmpty()) {
            throw ApiException.invalid("logit_bias", "unsupported_parameter", "'logit_bias' is not supported");
        }
        f.bool("stream");
        streamOptions(f);
        f.string("user");
    }

    /** {@code stream_options}: an object whose {@code include_usage} is true or false. */
    public static boolean includeUsage(Fields f) {
        return streamOptions(f);
    }

    private static boolean streamOptions(Fields f) {
        ObjectNode so = f.object("stream_options");
        if (so == null) {
            return false;
        }
        try {
            return Boolean.TRUE.equals(Fields.of(so, "'stream_options'").bool("include_usage"));
        } catch (ApiException e) {
            throw e.under("stream_options");
        }
    }
}
