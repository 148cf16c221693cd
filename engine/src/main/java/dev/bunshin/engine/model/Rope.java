package dev.bunshin.engine.model;

import dev.bunshin.engine.ModelConfig;

/**
 * Rotary position embedding, computed as ggml's {@code rope_f32} does (so positions rotate by the same angles):
 * {@code theta_i = pos * freqScale * base^(-2i/ropeDim) / freqFactor[i]}, with the power built up by repeated
 * multiplication in float as ggml does.
 */
final class Rope {
    private final int ropeDim;
    private final boolean neox;
    private final float thetaScale;
    private final float freqScale;
    private final float[] freqFactors; // [ropeDim / 2] or null

    Rope(ModelConfig c, float[] freqFactors) {
        this.ropeDim = c.ropeDim();
        this.neox = c.ropeNeox();
        this.thetaScale = (float) Math.pow(c.ropeFreqBase(), -2.0 / c.ropeDim());
        this.freqScale = c.ropeFreqScale();
        this.freqFactors = freqFactors;
    }

    /** cos and sin of every pair's angle at {@code pos}: F32 [ropeDim] as (cos, sin) pairs. */
    float[] table(int pos) {
        float[] cs = new float[ropeDim];
        float thetaBase = pos;
        for (int i0 = 0; i0 < ropeDim; i0 += 2) {
            float ff = freqFactors == null ? 1f : freqFactors[i0 / 2];
            float theta = freqScale * (thetaBase / ff);
            cs[i0] = (float) Math.cos(theta);
            cs[i0 + 1] = (float) Math.sin(theta);
            thetaBase *= thetaScale;
        }
        return cs;
    }

    /** Rotates the first ropeDim values of each head in {@code x[off .. off + nHeads * headDim)}. */
    void apply(float[] x, int off, int nHeads, int headDim, float[] cs) {
        int half = ropeDim / 2;
        for (int h = 0; h < nHeads; h++) {
            int b = off + h * headDim;
            for (int i0 = 0; i0 < ropeDim; i0 += 2) {
                float cos = cs[i0], sin = cs[i0 + 1];
                int a0 = neox ? b + i0 / 2 : b + i0;
                int a1 = neox ? a0 + half : a0 + 1;
                float x0 = x[a0], x1 = x[a1];
                x[a0] = x0 * cos - x1 * sin;
                x[a1] = x0 * sin + x1 * cos;
            }
        }
    }
}
