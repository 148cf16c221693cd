package dev.bunshin.submitter.jobs;

/**
 * How many tokens a request may generate, as it asked: a number (checked against the context, never cut to fit),
 * nothing (the default), or, for Ollama's negative {@code num_predict} only, whatever the context leaves. The last
 * is its own case, not a large number: a client's {@code max_tokens: 2147483647} is refused, not taken as "fill".
 *
 * @param requested   the client's number, or null
 * @param fillContext generate until the context is full (Ollama's {@code num_predict < 0})
 * @param param       the field to blame: {@code max_tokens}, {@code max_completion_tokens}, {@code options.num_predict}
 */
public record MaxTokens(Integer requested, boolean fillContext, String param) {

    /** The client's number (null: the default) from field {@code param}. */
    public static MaxTokens of(Integer requested, String param) {
        return new MaxTokens(requested, false, param);
    }

    /** As many as the context leaves after the prompt. */
    public static MaxTokens fillContext(String param) {
        return new MaxTokens(null, true, param);
    }
}
