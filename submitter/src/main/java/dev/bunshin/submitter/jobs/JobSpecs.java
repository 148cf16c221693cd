package dev.bunshin.submitter.jobs;

import dev.bunshin.submitter.api.ApiException;
import dev.bunshin.submitter.model.ServedModel;
/**
 * Turns a prompt and request fields into a {@link JobSpec}: tokenizes and checks the lengths against the
 * model's context, so a job the stage workers could not run is refused at the door.
 */
public final class JobSpecs {

    /** max_tokens when a request gives none (and the context has room). */
    public static final int DEFAULT_MAX_TOKENS = 256;

    private JobSpecs() {}

    /**
     * @param maxTokens    what the request asked to generate
     * @param parseSpecial whether special-token text in the prompt is parsed (rendered chat templates)
     */
    public static JobSpec build(ServedModel model, String kind, String prompt, String promptParam, boolean parseSpecial,
                                MaxTokens maxTokens, Sampling sampling, int[] stopTokens) {
        boolean fill = maxTokens.fillContext();
        Integer requested = maxTokens.requested();
        String maxTokensParam = maxTokens.param();
        if (prompt == null) {
            throw ApiException.missing(promptParam);
        }
        if (prompt.isBlank()) {
            throw ApiException.invalid(promptParam, "'" + promptParam + "' must not be blank");
        }
        if (requested != null && requested <= 0) {
            throw ApiException.invalid(maxTokensParam, "'" + maxTokensParam + "' must be at least 1, got " + requested);
        }
        int ctx = model.contextLength();
        if (requested != null && requested >= ctx) {
            throw ApiException.invalid(maxTokensParam, "context_length_exceeded", "'" + maxTokensParam + "' is "
                    + requested + " but model " + model.id() + " has a context of " + ctx
                    + " tokens: at most " + (ctx - 1) + ", less the prompt's tokens");
        }
        int[] tokens = model.tokenize(prompt, parseSpecial);
        if (tokens.length == 0) {
            throw ApiException.invalid(promptParam, "'" + promptParam + "' tokenizes to nothing");
        }
        if (tokens.length >= ctx) {
            throw ApiException.invalid(promptParam, "context_length_exceeded", "'" + promptParam + "' is "
                    + tokens.length + " tokens but model " + model.id() + " has a context of " + ctx
                    + " tokens (and at least one must be left to generate)");
        }
        int room = ctx - tokens.length;
        int max;
        if (requested == null) {
            max = fill ? room : Math.min(DEFAULT_MAX_TOKENS, room);
        } else if (requested > room) {
            throw ApiException.invalid(maxTokensParam, "context_length_exceeded", "prompt (" + tokens.length
                    + " tokens) + '" + maxTokensParam + "' (" + requested + ") = " + (tokens.length + requested)
                    + " exceeds model " + model.id() + "'s context of " + ctx + " tokens: at most " + room);
        } else {
            max = requested;
        }
        return new JobSpec(model.id(), kind, prompt, tokens, max, sampling, sampling.seedOrRandom(), sampling.stop(),
                stopTokens == null ? new int[0] : stopTokens, null, null, null, false);
    }
}
