package dev.bunshin.submitter.openai;

import dev.bunshin.submitter.jobs.Job;
import dev.bunshin.submitter.jobs.JobResource;
import dev.bunshin.submitter.model.ServedModel;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** OpenAI's response objects (completion, chat completion, their stream chunks, models) built from jobs. */
public final class OpenAiObjects {

    private OpenAiObjects() {}

    static long created(Job job) {
        return job.createdAt == null ? System.currentTimeMillis() / 1000 : job.createdAt.getEpochSecond();
    }

    /** OpenAI's finish reasons are stop | length; a cancelled job reports stop (it ended on request). */
    static String finishReason(String reason) {
        return reason == null ? null : "length".equals(reason) ? "length" : "stop";
    }

    /** @param logprobs the choice's logprobs object ({@link OpenAiLogprobs}), or null */
    public static Map<String, Object> completion(Job job, String text, int tokens, Map<String, Object> logprobs) {
        Map<String, Object> choice = new LinkedHashMap<>();
        choice.put("text", text);
        choice.put("index", 0);
        choice.put("logprobs", logprobs);
        choice.put("finish_reason", finishReason(job.finishReason));
        return object("cmpl-" + job.id, "text_completion", job, choice, usage(job, tokens));
    }

    static Map<String, Object> completionChunk(Job job, String text, String finishReason, Map<String, Object> logprobs) {
        Map<String, Object> choice = new LinkedHashMap<>();
        choice.put("text", text);
        choice.put("index", 0);
        choice.put("logprobs", logprobs);
        choice.put("finish_reason", finishReason);
        return object("cmpl-" + job.id, "text_completion", job, choice, null);
    }

    /** @param logprobs the choice's logprobs object ({@link OpenAiLogprobs}), or null */
    public static Map<String, Object> chat(Job job, String text, int tokens, Map<String, Object> logprobs) {
        Map<String, Object> message = new LinkedHashMap<>();
        message.put("role", "assistant");
        message.put("content", text);
        Map<String, Object> choice = new LinkedHashMap<>();
        choice.put("index", 0);
        choice.put("message", message);
        choice.put("logprobs", logprobs);
        choice.put("finish_reason", finishReason(job.finishReason));
        return object("chatcmpl-" + job.id, "chat.completion", job, choice, usage(job, tokens));
    }

    /** A chat stream chunk: {@code delta} holds the role (first chunk) or content; the last has finish_reason. */
    static Map<String, Object> chatChunk(Job job, Map<String, Object> delta, String finishReason,
                                         Map<String, Object> logprobs) {
        Map<String, Object> choice = new LinkedHashMap<>();
        choice.put("index", 0);
        choice.put("delta", delta);
        choice.put("logprobs", logprobs);
        choice.put("finish_reason", finishReason);
        return object("chatcmpl-" + job.id, "chat.completion.chunk", job, choice, null);
    }

    /** The final usage-only chunk of a stream with stream_options.include_usage. */
    static Map<String, Object> usageChunk(Job job, String object, int tokens) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", (object.startsWith("chat") ? "chatcmpl-" : "cmpl-") + job.id);
        m.put("object", object);
        m.put("created", created(job));
        m.put("model", job.model);
        m.put("choices", List.of());
        m.put("usage", usage(job, tokens));
        return m;
    }

    static Map<String, Object> usage(Job job, int tokens) {
        return JobResource.usage(job.promptTokens.length, tokens);
    }

    static Map<String, Object> model(ServedModel m) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("id", m.id());
        o.put("object", "model");
        o.put("created", m.createdEpochSeconds());
        o.put("owned_by", "bunshin");
        o.put("context_length", m.contextLength());
        return o;
    }

    private static Map<String, Object> object(String id, String object, Job job, Map<String, Object> choice,
                                              Map<String, Object> usage) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", id);
        m.put("object", object);
        m.put("created", created(job));
        m.put("model", job.model);
        m.put("system_fingerprint", "bunshin");
        m.put("choices", List.of(choice));
        if (usage != null) {
            m.put("usage", usage);
        }
        return m;
    }
}
