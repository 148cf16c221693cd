package dev.bunshin.engine.sample;

import java.util.Arrays;

/**
 * Token candidates narrowed by the filters in llama.cpp's order. Each candidate is one {@code long} key: a flipped
 * order-preserving encoding of its logit in the high half and its id in the low half, so that ascending keys mean
 * descending logits, lowest id first on ties. The list starts in id order; top-k and top-p leave it sorted best
 * first, selecting only as many of the best as they need (a full sort of a 150k vocabulary costs ~10 ms a token).
 * Every filter keeps at least one candidate.
 */
final class Candidates {

    private long[] keys;
    private int n;
    private boolean sorted;

    private Candidates(long[] keys, int n, boolean sorted) {
        this.keys = keys;
        this.n = n;
        this.sorted = sorted;
    }

    /** All tokens whose logit is a number above -inf, in id order (or just token 0 if none is). */
    static Candidates of(float[] logits) {
        long[] keys = new long[logits.length];
        int m = 0;
        for (int id = 0; id < logits.length; id++) {
            float l = logits[id];
            if (!Float.isNaN(l) && l != Float.NEGATIVE_INFINITY) {
                keys[m++] = key(l, id);
            }
        }
        if (m == 0) { // everything masked: fall back to token 0, as argmax would
            return new Candidates(new long[]{key(0f, 0)}, 1, true);
        }
        return new Candidates(keys, m, false);
    }

    /** The candidates sorted best first, only the best {@code topK} if {@code topK > 0}. For tests. */
    static Candidates sorted(float[] logits, int topK) {
        Candidates c = of(logits);
        c.topK(topK > 0 ? topK : c.n);
        return c;
    }

    static long key(float logit, int id) {
        return ((long) ~orderedBits(logit) << 32) | id;
    }

    /** An int whose signed order is the float's order. */
    private static int orderedBits(float f) {
        int b = Float.floatToIntBits(f == 0f ? 0f : f); // -0 == +0
        return b >= 0 ? b : b ^ 0x7FFFFFFF;
    }

    static float logitOf(long key) {
        int b = ~(int) (key >> 32);
        return Float.intBitsToFloat(b >= 0 ? b : b ^ 0x7FFFFFFF);
    }

    int size() {
        return n;
    }

    int id(int i) {
        return (int) (keys[i] & 0xFFFFFFFFL);
    }

    float logit(int i) {
        return logitOf(keys[i]);
    }

    /** llama.cpp's top-k: keep the {@code k} best, sorted best first. {@code k <= 0}: off. */
    void topK(int k) {
        if (k <= 0) {
            return;
        }
        keepBestSorted(Math.min(k, n));
    }

    /** Sorts the {@code m} best candidates to the front and drops the rest. */
    private void keepBestSorted(int m) {
        if (!sorted) {
            keys = best(keys, n, m);
            sorted = true;
        }
        n = Math.min(n, m);
    }

    /** The {@code m} smallest of {@code keys[0..n)}, ascending: a bounded max-heap, O(n log m). */
    private static long[] best(long[] keys, int n, int m) {
        if (m >= n) {
            long[] all = Arrays.copyOf(keys, n);
            Arrays.sort(all);
            return all;
        }
        long[] heap = Arrays.copyOf(keys, m);
        for (int i = m / 2 - 1; i >= 0; i--) siftDown(heap, i, m);
        for (int i = m; i < n; i++) {
            if (keys[i] < heap[0]) {
                heap[0] = keys[i];
                siftDown(heap, 0, m);
            }
        }
        Arrays.sort(heap);
        return heap;
    }

    private static void siftDown(long[] h, int i, int size) {
        while (true) {
            int l = 2 * i + 1;
            if (l >= size) return;
            int c = l + 1 < size && h[l + 1] > h[l] ? l + 1 : l;
            if (h[i] >= h[c]) return;
            long t = h[i];
            h[i] = h[c];
            h[c] = t;
            i = c;
        }
    }

    /** llama.cpp's top-p: see {@link #topPThenMinP}. */
    void topP(float p) {
        topPThenMinP(p, 0f);
    }

    /**
     * llama.cpp's top-p then min-p. Top-p keeps the shortest best-first prefix whose probability (softmax of the
     * current logits over all current candidates) reaches p ({@code p >= 1}: off); min-p then keeps candidates whose
     * probability is at least minP times the best one's ({@code minP <= 0}: off). Both keep prefixes of the sorted
     * list, so min-p's cut can be made first, once top-p's normaliser has been summed over everything: then only the
     * few candidates above the min-p threshold need sorting.
     */
    void topPThenMinP(float p, float minP) {
        if (p >= 1f) {
            minP(minP);
            return;
        }
        double max = maxLogit();
        double z = 0;
        for (int i = 0; i < n; i++) {
            z += StrictMath.exp(logit(i) - max);
        }
        minP(minP);
        // the best 64, then 1024, then all, until the prefix reaches p: usually far fewer than the vocabulary
        for (int m = Math.min(64, n); ; m = m >= 1024 ? n : Math.min(n, m * 16)) {
            long[] front = sorted ? keys : best(keys, n, m);
            double cum = 0;
            for (int i = 0; i < m; i++) {
                cum += StrictMath.exp(logitOf(front[i]) - max) / z;
                if (cum >= p || i + 1 == n) { // (all of them falling short of p: keep all)
                    keys = front;
                    sorted = true;
                    n = i + 1;
                    return;
                }
            }
        }
    }

    private double maxLogit() {
        if (sorted) {
            return logit(0);
        }
        long best = Long.MAX_VALUE;
        for (int i = 0; i < n; i++) best = Math.min(best, keys[i]);
        return logitOf(best);
    }

    /** llama.cpp's min-p: keep candidates whose probability is at least p times the best one's. {@code p <= 0}: off. */
    void minP(float p) {
        if (p <= 0f) {
            return;
        }
        double threshold = maxLogit() + StrictMath.log(p);
        long best = sorted ? keys[0] : Long.MAX_VALUE;
        int m = 0;
        for (int i = 0; i < n; i++) {
            best = Math.min(best, keys[i]);
            if (logit(i) >= threshold) {
                keys[m++] = keys[i]; // a filter keeps the order, sorted or not
            }
        }
        if (m == 0) { // only possible for p > 1: keep the best one, as llama.cpp's min_keep
            keys[m++] = best;
        }
        n = m;
    }

    private float temperature = 1f;

    /** Divides the logits by {@code t} when the probabilities are computed. */
    void temperature(float t) {
        this.temperature = t;
    }

    /** Probabilities of the kept candidates (after temperature), in candidate order. */
    double[] softmax() {
        double max = maxLogit() / temperature;
        double[] p = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            p[i] = StrictMath.exp(logit(i) / temperature - max);
            sum += p[i];
        }
        for (int i = 0; i < n; i++) {
            p[i] /= sum;
        }
        return p;
    }
}
