package dev.bunshin.engine.kv;

/**
 * Keys and values of one sequence for the layers of one stage, F32. Grows by doubling (up to
 * {@code maxPositions}) so a short job does not hold a full context's worth of memory.
 */
public final class KvCache {
    private static final int INITIAL_POSITIONS = 64;

    private final int nLayers;
    private final int kvDim;
    private final int maxPositions;
    private float[][] k; // [nLayers][capacity * kvDim]: position-major, heads side by side
    private float[][] v; // [nLayers][capacity * kvDim]
    private int capacity;
    private int length;

    public KvCache(int nLayers, int kvDim, int maxPositions) {
        this.nLayers = nLayers;
        this.kvDim = kvDim;
        this.maxPositions = maxPositions;
        this.k = new float[nLayers][];
        this.v = new float[nLayers][];
    }

    /** Positions cached. */
    public int length() {
        return length;
    }

    public int maxPositions() {
        return maxPositions;
    }

    /** Sets the number of valid positions (after a forward pass wrote up to there). */
    public void setLength(int length) {
        if (length < 0 || length > capacity) {
            throw new IllegalArgumentException("length " + length + " outside capacity " + capacity);
        }
        this.length = length;
    }

    /** Makes room for positions [0, positions); keeps what is cached. */
    public void reserve(int positions) {
        if (positions > maxPositions) {
            throw new IllegalArgumentException("positions " + positions + " exceed the context of " + maxPositions);
        }
        if (positions <= capacity) return;
        int c = Math.max(INITIAL_POSITIONS, capacity);
        while (c < positions) c = (int) Math.min((long) c * 2, maxPositions);
        for (int il = 0; il < nLayers; il++) {
            k[il] = grow(k[il], c);
            v[il] = grow(v[il], c);
        }
        capacity = c;
    }

    private float[] grow(float[] old, int positions) {
        float[] a = new float[Math.multiplyExact(positions, kvDim)];
        if (old != null) System.arraycopy(old, 0, a, 0, length * kvDim);
        return a;
    }

    /** Keys of a stage-local layer: F32 [capacity, kvDim]. */
    public float[] keys(int layer) {
        return k[layer];
    }

    /** Values of a stage-local layer: F32 [capacity, kvDim]. */
    public float[] values(int layer) {
        return v[layer];
    }

    /** Bytes held. */
    public long bytes() {
        return 2L * nLayers * capacity * kvDim * Float.BYTES;
    }
}
