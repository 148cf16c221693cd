package dev.bunshin.engine.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Small float kernels shared by the matrix kernels and the forward pass.
 *
 * <p>Determinism: every result here depends only on the inputs, never on how the JIT compiled the code. That is
 * why lanes are summed with {@link #sumLanes} (a fixed order) rather than {@code reduceLanes(ADD)},
 * whose order the Vector API leaves open (interpreted and compiled code may differ). Split invariance and
 * batch invariance rest on this.
 */
public final class VectorMath {
    private VectorMath() {}

    /** The float species every kernel uses; at least 8 lanes, else the kernels fall back to scalar code. */
    public static final VectorSpecies<Float> F = species();
    public static final int L = F.length();
    /** Whether the vector kernels can run (they assume 8 or more float lanes, i.e. AVX2 or AVX-512). */
    public static final boolean VECTOR = L >= 8 && Boolean.parseBoolean(System.getProperty("bunshin.vector", "true"));
    /**
     * Whether the Q8_0 and Q4_0 kernels may add alternate blocks into two accumulator chains where a block is at most
     * two vectors (AVX-512); {@code -Dbunshin.kernel.pairs=false} runs one chain, for measuring the difference.
     */
    static final boolean PAIRED_CHAINS = Boolean.parseBoolean(System.getProperty("bunshin.kernel.pairs", "true"));

    /**
     * The machine's preferred shape, or {@code -Dbunshin.vector.bits=256|512} to run another shape's code path
     * (emulated, slowly, where the CPU lacks it: used to test the AVX-512 path on an AVX2 machine).
     */
    private static VectorSpecies<Float> species() {
        String bits = System.getProperty("bunshin.vector.bits");
        return bits == null ? FloatVector.SPECIES_PREFERRED
                : VectorSpecies.of(float.class, VectorShape.forBitSize(Integer.parseInt(bits)));
    }

    private static final VectorSpecies<Float> F128 = FloatVector.SPECIES_128;

    /**
     * Sum of the lanes in a fixed order. For 8 lanes: the two 128-bit halves added lane-wise, then
     * {@code (h0 + h1) + (h2 + h3)}: a short dependency chain (it runs once per output row of every matmul).
     * Otherwise left to right. Counts the lanes of {@code v} itself: the repacked kernels ({@link Kernels#F}) use 8
     * lanes where the machine's vectors have 4 (NEON), and summing only {@link #L} of them dropped half a row.
     */
    static float sumLanes(FloatVector v) {
        int n = v.length();
        if (n == 8) {
            FloatVector h = ((FloatVector) v.reinterpretShape(F128, 0)).add((FloatVector) v.reinterpretShape(F128, 1));
            return (h.lane(0) + h.lane(1)) + (h.lane(2) + h.lane(3));
        }
        float s = 0f;
        for (int i = 0; i < n; i++) {
            s += v.lane(i);
        }
        return s;
    }

    /** Σ a[aOff+i]·b[bOff+i] for i in [0, len). */
    public static float dot(float[] a, int aOff, float[] b, int bOff, int len) {
        int c = 0;
        float sum = 0f;
        if (VECTOR) {
            FloatVector acc = FloatVector.zero(F);
            int upper = F.loopBound(len);
            for (; c < upper; c += L) {
                acc = FloatVector.fromArray(F, a, aOff + c).fma(FloatVector.fromArray(F, b, bOff + c), acc);
            }
            sum = sumLanes(acc);
        }
        for (; c < len; c++) {
            sum += a[aOff + c] * b[bOff + c];
        }
        return sum;
    }

    /** y[yOff+i] += alpha·x[xOff+i] for i in [0, len). */
    public static void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int len) {
        int c = 0;
        if (VECTOR) {
            FloatVector a = FloatVector.broadcast(F, alpha);
            int upper = F.loopBound(len);
            for (; c < upper; c += L) {
                FloatVector.fromArray(F, x, xOff + c).fma(a, FloatVector.fromArray(F, y, yOff + c)).intoArray(y, yOff + c);
            }
        }
        for (; c < len; c++) {
            y[yOff + c] = Math.fma(x[xOff + c], alpha, y[yOff + c]);
        }
    }
}
