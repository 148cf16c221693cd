package dev.bunshin.engine.sample;

/**
 * Chooses the next token from logits. Deterministic: the same params, logits, history and step give the same
 * token, so a redelivered pipeline record samples the same token again. CONTRACT stub: implemented by the
 * sampling work.
 */
public final class Sampler {

    private final SamplingParams params;

    public Sampler(SamplingParams params) {
        this.params = params;
    }

    public SamplingParams params() {
        return params;
    }

    /**
     * @param logits        F32 [nVocab]; may be modified
     * @param history       previously generated/prompt tokens the penalties look at
     * @param historyLength valid entries of {@code history}
     * @param step          index of the token being sampled (seeds the random draw for this step)
     */
    public int sample(float[] logits, int[] history, int historyLength, long step) {
        throw new UnsupportedOperationException("not implemented yet");
    }
}
