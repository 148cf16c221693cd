package dev.bunshin.engine;

/**
 * One prompt's embedding, pooled from the {@link Pooling#partial partials} of its chunks as they come from the last
 * stage, in position order. A chunk at position 0 starts over (the prompt is prefilled again, e.g. after a re-plan).
 */
public final class EmbeddingPool {

    private final Pooling pooling;
    private final int nEmbd;
    private float[] acc; // F32 [nEmbd]: MEAN: the sum so far; CLS: position 0's state; LAST: the latest chunk's
    private int length; // positions added so far

    public EmbeddingPool(Pooling pooling, int nEmbd) {
        this.pooling = java.util.Objects.requireNonNull(pooling, "pooling == null");
        this.nEmbd = nEmbd;
        this.acc = new float[nEmbd];
    }

    /** Positions added so far: the position the next chunk must start at. */
    public int length() {
        return length;
    }

    /**
     * Adds the chunk of {@code n} positions starting at {@code pos}.
     *
     * @param partial F32 {@code [nEmbd]}, or null for a {@link Pooling#CLS} chunk after position 0
     * @throws IllegalArgumentException naming the positions if the chunk does not continue the prompt (and does not
     *                                  start it over at 0)
     */
    public void add(int pos, int n, float[] partial) {
        if (pos == 0) {
            acc = new float[nEmbd];
            length = 0;
        }
        if (pos != length) {
            throw new IllegalArgumentException("chunk at position " + pos + " does not continue the " + length
                    + " position(s) pooled so far");
        }
        if (partial != null && partial.length != nEmbd) {
            throw new IllegalArgumentException("partial of " + partial.length + " values, nEmbd " + nEmbd);
        }
        switch (pooling) {
            case MEAN -> {
                for (int i = 0; i < nEmbd; i++) acc[i] += partial[i];
            }
            case CLS -> {
                if (pos == 0) acc = partial.clone();
            }
            case LAST -> acc = partial.clone();
        }
        length += n;
    }

    /** The pooled state F32 {@code [nEmbd]}, not normalised (llama.cpp's {@code llama_get_embeddings_seq}). */
    public float[] pooled() {
        if (length == 0) throw new IllegalStateException("nothing pooled yet");
        if (pooling != Pooling.MEAN) return acc.clone();
        float[] mean = new float[nEmbd];
        float inv = 1.0f / length; // ggml's inp_mean holds 1/n per position
        for (int i = 0; i < nEmbd; i++) mean[i] = acc[i] * inv;
        return mean;
    }

    /**
     * {@code v / ||v||₂} (llama.cpp's {@code common_embd_normalize(…, 2)}, what llama-server's and Ollama's
     * embedding endpoints answer); a zero vector stays zero.
     */
    public static float[] normalized(float[] v) {
        double sum = 0;
        for (float x : v) sum += (double) x * x;
        float[] out = new float[v.length];
        if (sum == 0) return out;
        float inv = (float) (1.0 / Math.sqrt(sum));
        for (int i = 0; i < v.length; i++) out[i] = v[i] * inv;
        return out;
    }
}
