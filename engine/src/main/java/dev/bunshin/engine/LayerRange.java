package dev.bunshin.engine;

/**
 * A contiguous range of transformer layers {@code [start, end)} run by one stage.
 * The stage that starts at layer 0 embeds tokens; the stage that ends at the last layer applies the output norm
 * and head.
 */
public record LayerRange(int start, int end) {
    public LayerRange {
        if (start < 0 || end <= start) {
            throw new IllegalArgumentException("bad layer range [" + start + ", " + end + ")");
        }
    }

    public int size() {
        return end - start;
    }

    /** Whether this stage embeds tokens. */
    public boolean isFirst() {
        return start == 0;
    }

    /** Whether this stage produces logits for a model of {@code nLayers} layers. */
    public boolean isLast(int nLayers) {
        return end == nLayers;
    }

    public boolean contains(int layer) {
        return layer >= start && layer < end;
    }

    /** Splits {@code nLayers} layers into {@code k} near-equal contiguous ranges. */
    public static LayerRange[] split(int nLayers, int k) {
        if (k < 1 || k > nLayers) {
            throw new IllegalArgumentException("cannot split " + nLayers + " layers into " + k + " stages");
        }
        LayerRange[] out = new LayerRange[k];
        int start = 0;
        for (int i = 0; i < k; i++) {
            int end = start + (nLayers - start) / (k - i);
            out[i] = new LayerRange(start, end);
            start = end;
        }
        return out;
    }

    @Override
    public String toString() {
        return "[" + start + ", " + end + ")";
    }
}
