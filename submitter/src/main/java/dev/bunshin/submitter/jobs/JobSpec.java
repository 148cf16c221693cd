package dev.bunshin.submitter.jobs;

import dev.bunshin.submitter.model.ToolCallFormat;

import java.util.List;

/**
 * A validated, tokenized job, ready to become a jobs row. Built by {@link JobSpecs} from any of the APIs.
 *
 * @param kind           completion | chat | job | ollama-generate | ollama-chat (what the response looks like)
 * @param promptTokens   the prompt as token ids, BOS included when the model wants it
 * @param stopTokens     extra token ids that end generation (a chat template's end-of-turn)
 * @param logprobs       how many alternatives per token to report logprobs for (0..20), or null: no logprobs
 * @param toolCallFormat how the reply's tool calls are written ({@link ToolCallFormat}), or null: no tools
 * @param responseFormat the document the output must be, the engine's {@code ResponseFormat} as stored JSON
 *                       ({@link ResponseFormats}), or null: free text
 * @param singleToolCall at most one tool call is answered, the reply's first ({@code "parallel_tool_calls": false})
 */
public record JobSpec(String model, String kind, String prompt, int[] promptTokens, int maxTokens, Sampling sampling,
               long seed, List<String> stop, int[] stopTokens, Integer logprobs, ToolCallFormat toolCallFormat,
               String responseFormat, boolean singleToolCall) {

    /** The same job, reporting logprobs with {@code k} alternatives per token (null: none). */
    public JobSpec withLogprobs(Integer k) {
        return new JobSpec(model, kind, prompt, promptTokens, maxTokens, sampling, seed, stop, stopTokens, k,
                toolCallFormat, responseFormat, singleToolCall);
    }

    /** The same job, its reply parsed for tool calls written in {@code format} (null: none). */
    public JobSpec withToolCalls(ToolCallFormat format) {
        return new JobSpec(model, kind, prompt, promptTokens, maxTokens, sampling, seed, stop, stopTokens, logprobs,
                format, responseFormat, singleToolCall);
    }

    /** The same job, its output constrained to {@code format} (stored JSON; null: free text). */
    public JobSpec withResponseFormat(String format) {
        return new JobSpec(model, kind, prompt, promptTokens, maxTokens, sampling, seed, stop, stopTokens, logprobs,
                toolCallFormat, format, singleToolCall);
    }

    /** The same job, answering at most its reply's first tool call ({@code "parallel_tool_calls": false}). */
    public JobSpec withSingleToolCall(boolean single) {
        return new JobSpec(model, kind, prompt, promptTokens, maxTokens, sampling, seed, stop, stopTokens, logprobs,
                toolCallFormat, responseFormat, single);
    }
}
