package dev.bunshin.engine.sample;

import java.util.Arrays;

/**
 * Token candidates sorted by logit, highest first (lowest id on ties), narrowed by the filters in llama.cpp's
 * order. Each filter keeps a prefix of the sorted list and always at least one candidate.
 */
final class Candidates {

    private final int[] ids;
    private final float[] logits;
    private int n;

    private Candidates(int[] ids, float[] logits) {
        this.ids = ids;
        this.logits = logits;
        this.n = ids.length;
    }

    /**
     * The candidates of {@code allLogits}, sorted; with {@code topK > 0} only the best {@code topK} (llama.cpp's
     * top-k). Logits of -inf and NaN are never candidates (unless nothing else is).
     */
    static Candidates sorted(float[] allLogits, int topK) {
        int nVocab = allLogits.length;
        // sort (logit desc, id asc) as one long key: a flipped order-preserving encoding of the float, then the id
        long[] keys = new long[nVocab];
        int m = 0;
        for (int id = 0; id < nVocab; id++) {
            float l = allLogits[id];
            if (Float.isNaN(l) || l == Float.NEGATIVE_INFINITY) {
                continue;
            }
            keys[m++] = ((long) ~orderedBits(l) << 32) | id;
        }
        if (m == 0) { // everything masked: fall back to id 0, as argmax would
            return new Candidates(new int[]{0}, new float[]{0f});
        }
        long[] k = Arrays.copyOf(keys, m);
        Arrays.sort(k);
        int keep = topK > 0 ? Math.min(topK, m) : m;
        int[] ids = new int[keep];
        float[] logits = new float[keep];
        for (int i = 0; i < keep; i++) {
            ids[i] = (int) (k[i] & 0xFFFFFFFFL);
            logits[i] = allLogits[ids[i]];
        }
        return new Candidates(ids, logits);
    }

    /** An int whose signed order is the float's order. */
    private static int orderedBits(float f) {
        int b = Float.floatToIntBits(f == 0f ? 0f : f); // -0 == +0
        return b >= 0 ? b : b ^ 0x7FFFFFFF;
    }

    int size() {
        return n;
    }

    int id(int i) {
        return ids[i];
    }

    float logit(int i) {
        return logits[i];
    }

    /** llama.cpp's top-p: the shortest prefix whose probability (softmax of the current logits) reaches p. */
    void topP(float p) {
        if (p >= 1f) {
            return;
        }
        double[] probs = softmax();
        double cum = 0;
        for (int i = 0; i < n; i++) {
            cum += probs[i];
            if (cum >= p) {
                n = i + 1;
                return;
            }
        }
    }

    /** llama.cpp's min-p: keep candidates whose probability is at least p times the best one's. */
    void minP(float p) {
        if (p <= 0f || n == 0) {
            return;
        }
        double threshold = logits[0] + StrictMath.log(p);
        int keep = 1;
        while (keep < n && logits[keep] >= threshold) {
            keep++;
        }
        n = keep;
    }

    void temperature(float t) {
        for (int i = 0; i < n; i++) {
            logits[i] /= t;
        }
    }

    /** Probabilities of the kept candidates, in order. */
    double[] softmax() {
        double max = logits[0];
        double[] p = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            p[i] = StrictMath.exp(logits[i] - max);
            sum += p[i];
        }
        for (int i = 0; i < n; i++) {
            p[i] /= sum;
        }
        return p;
    }
}
