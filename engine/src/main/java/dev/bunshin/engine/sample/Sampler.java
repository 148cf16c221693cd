package dev.bunshin.engine.sample;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Chooses the next token from logits. Deterministic: the same params, logits, history and step give the same
 * token, so a redelivered pipeline record samples the same token again — on any machine, since the arithmetic is
 * Java's (strict IEEE floats, {@link StrictMath}) and the random draw depends only on (seed, step).
 *
 * <p>The chain is llama.cpp's default order: penalties (repeat, presence, frequency over the last
 * {@code repeatLastN} tokens of the history) → top-k → top-p → min-p → temperature → softmax → draw. With
 * {@code temperature <= 0} it is greedy: penalties, then argmax (ties → lowest id). Thread-safe (no state).
 */
public final class Sampler {

    private final SamplingParams params;

    public Sampler(SamplingParams params) {
        this.params = java.util.Objects.requireNonNull(params, "params == null");
    }

    public SamplingParams params() {
        return params;
    }

    /**
     * @param logits        F32 [nVocab]; not modified
     * @param history       previously generated/prompt tokens the penalties look at
     * @param historyLength valid entries of {@code history}
     * @param step          index of the token being sampled (seeds the random draw for this step)
     */
    public int sample(float[] logits, int[] history, int historyLength, long step) {
        return choose(penalised(logits, history, historyLength), step);
    }

    /**
     * The logits as this sampler sees them before it truncates: after the penalties. A copy when the penalties
     * change anything ({@code logits} is never modified), else {@code logits} itself. {@link TokenLogprobs} are
     * computed from this very array, so they describe the distribution the token was drawn from.
     *
     * @param logits F32 [nVocab]
     */
    public float[] penalised(float[] logits, int[] history, int historyLength) {
        if (logits.length == 0) {
            throw new IllegalArgumentException("no logits");
        }
        if (historyLength < 0 || historyLength > (history == null ? 0 : history.length)) {
            throw new IllegalArgumentException("historyLength " + historyLength + " outside history of length "
                    + (history == null ? 0 : history.length));
        }
        if (penaltiesActive(historyLength)) {
            // on a copy: sampling the same logits twice (a redelivered record) must give the same token
            logits = logits.clone();
            applyPenalties(logits, history, historyLength);
        }
        return logits;
    }

    /**
     * Chooses the token from logits {@link #penalised} already: argmax when greedy, else top-k → top-p → min-p →
     * temperature → softmax → the draw of {@code step}.
     */
    public int choose(float[] penalised, long step) {
        if (penalised.length == 0) {
            throw new IllegalArgumentException("no logits");
        }
        if (params.greedy()) {
            return argmax(penalised);
        }
        Candidates c = Candidates.of(penalised);
        c.topK(params.topK());
        c.topPThenMinP(params.topP(), params.minP());
        c.temperature(params.temperature());
        double[] probs = c.softmax();
        return c.id(draw(probs, uniform(params.seed(), step)));
    }

    /** Index of the largest logit; the lowest index among equal ones. NaN never wins. */
    static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best] || Float.isNaN(logits[best])) {
                best = i;
            }
        }
        return best;
    }

    /**
     * llama.cpp's penalties sampler: a token seen in the window (the last {@code repeatLastN} history tokens; -1:
     * the whole history, 0: off) has its logit divided by {@code repeatPenalty} if positive (multiplied if not),
     * then lowered by {@code count * frequencyPenalty + presencePenalty}.
     */
    void applyPenalties(float[] logits, int[] history, int historyLength) {
        if (!penaltiesActive(historyLength)) {
            return;
        }
        float repeat = params.repeatPenalty();
        float freq = params.frequencyPenalty();
        float presence = params.presencePenalty();
        int lastN = params.repeatLastN() < 0 ? historyLength : Math.min(params.repeatLastN(), historyLength);
        int[] window = Arrays.copyOfRange(history, historyLength - lastN, historyLength);
        Arrays.sort(window);
        for (int i = 0; i < window.length; ) {
            int token = window[i];
            int count = 0;
            while (i < window.length && window[i] == token) {
                count++;
                i++;
            }
            if (token < 0 || token >= logits.length) {
                continue; // not a vocabulary token (e.g. a padding marker): nothing to penalise
            }
            float l = logits[token];
            l = l <= 0 ? l * repeat : l / repeat;
            logits[token] = l - (count * freq + presence);
        }
    }

    private boolean penaltiesActive(int historyLength) {
        boolean any = params.repeatPenalty() != 1f || params.frequencyPenalty() != 0f || params.presencePenalty() != 0f;
        return any && params.repeatLastN() != 0 && historyLength > 0;
    }

    /** A uniform double in [0, 1) determined by (seed, step) alone. */
    static double uniform(long seed, long step) {
        return new SplittableRandom(mix(seed, step)).nextDouble();
    }

    private static long mix(long seed, long step) {
        // SplitMix64's finaliser over both, so that neighbouring steps and seeds give unrelated streams
        long z = seed * 0x9E3779B97F4A7C15L + step;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** The index whose cumulative probability first exceeds {@code u}; the last one if rounding leaves a gap. */
    static int draw(double[] probs, double u) {
        double cum = 0;
        for (int i = 0; i < probs.length; i++) {
            cum += probs[i];
            if (u < cum) {
                return i;
            }
        }
        return probs.length - 1;
    }
}
