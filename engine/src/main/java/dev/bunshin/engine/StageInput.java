package dev.bunshin.engine;

/**
 * One sequence's part of a stage call: {@code nTokens} consecutive positions starting at {@code pos}.
 * A prefill chunk has many tokens; a decode step has one.
 *
 * @param seqId       the sequence (job) this belongs to; the stage keeps a KV cache per sequence
 * @param pos         position of the first token in the sequence
 * @param tokens      the first stage's input: token ids {@code [nTokens]}; null for later stages
 * @param activations a later stage's input: F32 {@code [nTokens, nEmbd]} row-major; null for the first stage
 */
public record StageInput(long seqId, int pos, int[] tokens, float[] activations) {

    public static StageInput ofTokens(long seqId, int pos, int[] tokens) {
        return new StageInput(seqId, pos, tokens, null);
    }

    public static StageInput ofActivations(long seqId, int pos, float[] activations) {
        return new StageInput(seqId, pos, null, activations);
    }

    /** Number of positions, given the model's embedding length. */
    public int nTokens(int nEmbd) {
        return tokens != null ? tokens.length : activations.length / nEmbd;
    }
}
