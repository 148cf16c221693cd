package dev.bunshin.engine;

/**
 * One sequence's part of a stage call: {@code nTokens} consecutive positions starting at {@code pos}.
 * A prefill chunk has many tokens; a decode step has one.
 *
 * @param seqId       the sequence (job) this belongs to; the stage keeps a KV cache per sequence
 * @param pos         position of the first token in the sequence
 * @param tokens      the first stage's input: token ids {@code [nTokens]}; null for later stages
 * @param activations a later stage's input: F32 {@code [nTokens, nEmbd]} row-major; null for the first stage
 * @param pool        asks a last stage for this input's {@link StageOutput#pooled} part (a chunk of an embedding
 *                    job). The java backend pools every input anyway; the llama.cpp backend only these, since it
 *                    must then take every position through the output norm and the head
 */
public record StageInput(long seqId, int pos, int[] tokens, float[] activations, boolean pool) {

    /** An input whose pooled part is not asked for. */
    public StageInput(long seqId, int pos, int[] tokens, float[] activations) {
        this(seqId, pos, tokens, activations, false);
    }

    public static StageInput ofTokens(long seqId, int pos, int[] tokens) {
        return new StageInput(seqId, pos, tokens, null);
    }

    public static StageInput ofActivations(long seqId, int pos, float[] activations) {
        return new StageInput(seqId, pos, null, activations);
    }

    /** The same input, its pooled part asked for. */
    public StageInput pooled() {
        return new StageInput(seqId, pos, tokens, activations, true);
    }

    /** Number of positions, given the model's embedding length. */
    public int nTokens(int nEmbd) {
        return tokens != null ? tokens.length : activations.length / nEmbd;
    }
}
