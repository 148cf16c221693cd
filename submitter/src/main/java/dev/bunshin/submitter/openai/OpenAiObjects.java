package dev.bunshin.submitter.openai;

import dev.bunshin.submitter.jobs.Job;
import dev.bunshin.submitter.jobs.JobResource;
import dev.bunshin.submitter.model.ServedModel;
import dev.bunshin.submitter.model.ToolCallFormat;
import dev.bunshin.submitter.model.ToolCallStream;
import dev.bunshin.submitter.model.ToolCalls;

import java.util.ArrayList;
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

    /**
     * A chat completion. A job given tools has its reply's calls as {@code message.tool_calls} (arguments a JSON
     * string, as OpenAI sends them), {@code content} the text around them or null, and finish_reason
     * {@code tool_calls}.
     *
     * @param logprobs the choice's logprobs object ({@link OpenAiLogprobs}), or null
     */
    public static Map<String, Object> chat(Job job, String text, int tokens, Map<String, Object> logprobs) {
        Map<String, Object> message = new LinkedHashMap<>();
        message.put("role", "assistant");
        String finish = finishReason(job.finishReason);
        ToolCallFormat format = ToolCallFormat.ofSql(job.toolCallFormat);
        ToolCalls.Parsed parsed = format == null ? null : ToolCalls.parse(text, format);
        if (parsed != null && !parsed.calls().isEmpty()) {
            message.put("content", parsed.content());
            message.put("tool_calls", toolCalls(job, answered(job, parsed.calls()), 0, false));
            finish = "tool_calls";
        } else {
            message.put("content", text);
        }
        Map<String, Object> choice = new LinkedHashMap<>();
        choice.put("index", 0);
        choice.put("message", message);
        choice.put("logprobs", logprobs);
        choice.put("finish_reason", finish);
        return object("chatcmpl-" + job.id, "chat.completion", job, choice, usage(job, tokens));
    }

    /** The calls a job answers: all of them, or only the first when it was asked with "parallel_tool_calls": false. */
    static List<ToolCalls.Call> answered(Job job, List<ToolCalls.Call> calls) {
        return job.singleToolCall && calls.size() > 1 ? calls.subList(0, 1) : calls;
    }

    /**
     * OpenAI's tool calls, ids {@code call_<job>_<n>}: {@code {id, type: "function", function: {name, arguments}}};
     * in a stream's delta each also has its {@code index}.
     *
     * @param first the index of the first of {@code calls} in the reply
     */
    static List<Map<String, Object>> toolCalls(Job job, List<ToolCalls.Call> calls, int first, boolean delta) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (int i = 0; i < calls.size(); i++) {
            Map<String, Object> function = new LinkedHashMap<>();
            function.put("name", calls.get(i).name());
            function.put("arguments", calls.get(i).arguments().toString());
            Map<String, Object> call = new LinkedHashMap<>();
            if (delta) {
                call.put("index", first + i);
            }
            call.put("id", callId(job, first + i));
            call.put("type", "function");
            call.put("function", function);
            out.add(call);
        }
        return out;
    }

    /** The id of a reply's {@code index}-th call, the same in a whole answer and in a stream. */
    private static String callId(Job job, int index) {
        return "call_" + job.id + "_" + index;
    }

    /**
     * A streamed piece of a call: the first of a call {@code {index, id, type, function: {name, arguments: ""}}},
     * then {@code {index, function: {arguments}}} with the next piece of its arguments' JSON text.
     */
    static Map<String, Object> toolCallDelta(Job job, ToolCallStream.CallDelta d) {
        Map<String, Object> function = new LinkedHashMap<>();
        if (d.name() != null) function.put("name", d.name());
        function.put("arguments", d.arguments());
        Map<String, Object> call = new LinkedHashMap<>();
        call.put("index", d.index());
        if (d.name() != null) {
            call.put("id", callId(job, d.index()));
            call.put("type", "function");
        }
        call.put("function", function);
        return call;
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
