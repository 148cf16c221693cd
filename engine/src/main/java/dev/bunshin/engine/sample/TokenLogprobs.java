package dev.bunshin.engine.sample;

import java.util.Arrays;

/**
 * A sampled token's log-probability and the {@code k} most likely tokens with theirs (OpenAI's {@code logprobs} /
 * {@code top_logprobs}).
 *
 * <p>The distribution is the one the sampler drew from before it truncated: log-softmax over the whole vocabulary
 * of the {@link Sampler#penalised penalised} logits divided by the temperature (temperature 0, greedy, counts as 1:
 * the model's own distribution after penalties, so greedy jobs still get useful confidences). Top-k, top-p and
 * min-p are not applied: a truncated distribution would give most alternatives -infinity. The log-sum-exp is summed
 * in double precision. A log-probability of -infinity (a logit of -infinity or NaN) is reported as
 * {@link #FLOOR}, as OpenAI does, so that it can be written as JSON.
 *
 * @param token       the sampled token
 * @param logprob     its log-probability
 * @param topIds      the {@code k} most likely tokens, most likely first (ties: lower id first) // [k]
 * @param topLogprobs their log-probabilities, in the same order // [k]
 */
public record TokenLogprobs(int token, float logprob, int[] topIds, float[] topLogprobs) {

    /** The most alternatives a request may ask for (OpenAI's limit for {@code top_logprobs}). */
    public static final int MAX_TOP = 20;
    /** What a log-probability of -infinity is reported as. */
    public static final float FLOOR = -9999f;

    public TokenLogprobs {
        if (topIds.length != topLogprobs.length) {
            throw new IllegalArgumentException(topIds.length + " top ids but " + topLogprobs.length + " logprobs");
        }
    }

    /**
     * Computes the logprobs of {@code token} and the top {@code k} alternatives: three passes over the vocabulary
     * (max, sum of exponentials, a bounded heap of the {@code k} best), O(nVocab log k), no sort of the vocabulary.
     *
     * @param logits      F32 [nVocab], as {@link Sampler#penalised} returned them; not modified
     * @param temperature the sampler's temperature; {@code <= 0} (greedy) counts as 1
     * @param k           how many alternatives, 0..{@link #MAX_TOP}
     */
    public static TokenLogprobs of(float[] logits, float temperature, int token, int k) {
        int n = logits.length;
        if (n == 0) throw new IllegalArgumentException("no logits");
        if (token < 0 || token >= n) {
            throw new IllegalArgumentException("token " + token + " outside the vocabulary [0, " + n + ")");
        }
        if (k < 0 || k > MAX_TOP) throw new IllegalArgumentException("k must be in 0.." + MAX_TOP + ", got " + k);
        double t = temperature > 0f ? temperature : 1.0;
        float max = Float.NEGATIVE_INFINITY;
        for (float l : logits) {
            if (l > max) max = l; // NaN never wins
        }
        if (max == Float.NEGATIVE_INFINITY || max == Float.POSITIVE_INFINITY) {
            throw new IllegalArgumentException("no finite best logit: " + max);
        }
        double scaledMax = max / t;
        double sum = 0;
        for (float l : logits) {
            if (l == l) sum += Math.exp(l / t - scaledMax); // NaN: probability 0
        }
        double logZ = scaledMax + Math.log(sum);
        int m = Math.min(k, n);
        int[] heap = best(logits, m);
        int[] ids = new int[m];
        float[] lps = new float[m];
        for (int i = 0; i < m; i++) {
            ids[i] = heap[i];
            lps[i] = logprob(logits[heap[i]], t, logZ);
        }
        return new TokenLogprobs(token, logprob(logits[token], t, logZ), ids, lps);
    }

    private static float logprob(float logit, double t, double logZ) {
        if (logit != logit) return FLOOR;
        double lp = logit / t - logZ;
        return lp == Double.NEGATIVE_INFINITY ? FLOOR : (float) Math.max(lp, FLOOR);
    }

    /** Whether token {@code a} ranks after {@code b}: lower logit (NaN lowest), or equal and a higher id. */
    private static boolean worse(float[] logits, int a, int b) {
        float la = logits[a] == logits[a] ? logits[a] : Float.NEGATIVE_INFINITY;
        float lb = logits[b] == logits[b] ? logits[b] : Float.NEGATIVE_INFINITY;
        return la < lb || (la == lb && a > b);
    }

    /** The {@code m} best token ids, best first: a heap whose root is the worst kept, then a sort of the m kept. */
    private static int[] best(float[] logits, int m) {
        int[] heap = new int[m];
        if (m == 0) return heap;
        int size = 0;
        for (int id = 0; id < logits.length; id++) {
            if (size < m) {
                heap[size] = id;
                siftUp(logits, heap, size++);
            } else if (worse(logits, heap[0], id)) {
                heap[0] = id;
                siftDown(logits, heap, 0, m);
            }
        }
        Integer[] boxed = Arrays.stream(heap).boxed().toArray(Integer[]::new);
        Arrays.sort(boxed, (a, b) -> a.equals(b) ? 0 : worse(logits, a, b) ? 1 : -1);
        for (int i = 0; i < m; i++) heap[i] = boxed[i];
        return heap;
    }

    private static void siftUp(float[] logits, int[] h, int i) {
        while (i > 0) {
            int parent = (i - 1) / 2;
            if (!worse(logits, h[i], h[parent])) return;
            int x = h[i];
            h[i] = h[parent];
            h[parent] = x;
            i = parent;
        }
    }

    private static void siftDown(float[] logits, int[] h, int i, int size) {
        while (true) {
            int l = 2 * i + 1;
            if (l >= size) return;
            int c = l + 1 < size && worse(logits, h[l + 1], h[l]) ? l + 1 : l;
            if (!worse(logits, h[c], h[i])) return;
            int x = h[i];
            h[i] = h[c];
            h[c] = x;
            i = c;
        }
    }
}
