package dev.bunshin.engine;

/**
 * A stage's result for one {@link StageInput}.
 *
 * @param seqId       as in the input
 * @param pos         as in the input
 * @param nTokens     as in the input
 * @param activations for a stage that is not last: F32 {@code [nTokens, nEmbd]}, the next stage's input; else null
 * @param logits      for the last stage: F32 {@code [nVocab]} of the input's last position; else null
 * @param pooled      for the last stage: F32 {@code [nEmbd]}, this input's {@link Pooling#partial} of the final hidden
 *                    states after the output norm (what an embedding job pools); null from a stage that is not
 *                    last, from the llama.cpp backend for an input not {@link StageInput#pool asked}, from a model
 *                    without a pooling it supports (a reranker), or for a {@link Pooling#CLS} chunk after position 0
 */
public record StageOutput(long seqId, int pos, int nTokens, float[] activations, float[] logits, float[] pooled) {

    /** An output without a pooled part. */
    public StageOutput(long seqId, int pos, int nTokens, float[] activations, float[] logits) {
        this(seqId, pos, nTokens, activations, logits, null);
    }
}
