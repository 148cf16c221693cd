package dev.bunshin.engine;

/**
 * A stage's result for one {@link StageInput}.
 *
 * @param seqId       as in the input
 * @param pos         as in the input
 * @param nTokens     as in the input
 * @param activations for a stage that is not last: F32 {@code [nTokens, nEmbd]}, the next stage's input; else null
 * @param logits      for the last stage: F32 {@code [nVocab]} of the input's last position; else null
 */
public record StageOutput(long seqId, int pos, int nTokens, float[] activations, float[] logits) {
}
