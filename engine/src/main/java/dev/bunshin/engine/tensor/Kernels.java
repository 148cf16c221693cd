package dev.bunshin.engine.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/** Vector species and small vector loops shared by the repacked quantized kernels. */
final class Kernels {
    private Kernels() {}

    /**
     * Float lanes per vector: the machine's preferred width, at least 8 (AVX2) and at most 16 (AVX-512). Block
     * kernels rely on 16- and 32-value groups being whole multiples of it.
     */
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED.length() < 8
            ? FloatVector.SPECIES_256 : FloatVector.SPECIES_PREFERRED;
    static final int L = F.length();
    /** Bytes with as many lanes as {@link #F}, so that one B2F conversion (part 0) yields one full float vector. */
    static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(L * 8));

    static {
        if (16 % L != 0) {
            throw new IllegalStateException("unsupported vector width: " + L + " float lanes");
        }
    }

    /** Bytes {@code q[off .. off+L)} as floats (sign-extended). */
    static FloatVector bytesToFloats(ByteVector b) {
        return (FloatVector) b.convertShape(VectorOperators.B2F, F, 0);
    }

    /** Σ a[ao+i]·b[bo+i], i in [0, len); len a multiple of {@link #L} is fastest, any len is correct. */
    static float dot(float[] a, int ao, float[] b, int bo, int len) {
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        int i = 0;
        for (; i + 2 * L <= len; i += 2 * L) {
            acc0 = FloatVector.fromArray(F, a, ao + i).fma(FloatVector.fromArray(F, b, bo + i), acc0);
            acc1 = FloatVector.fromArray(F, a, ao + i + L).fma(FloatVector.fromArray(F, b, bo + i + L), acc1);
        }
        for (; i + L <= len; i += L) {
            acc0 = FloatVector.fromArray(F, a, ao + i).fma(FloatVector.fromArray(F, b, bo + i), acc0);
        }
        float sum = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
        for (; i < len; i++) {
            sum += a[ao + i] * b[bo + i];
        }
        return sum;
    }

    /**
     * Four dot products of {@code w[0 .. len)} with the four consecutive rows {@code x[xo + k·len ..]}, k = 0..3,
     * into {@code out[0..4)}: w is loaded once for all four. {@code len} must be a multiple of {@link #L}.
     */
    static void dot4(float[] w, float[] x, int xo, int len, float[] out) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F);
        for (int i = 0; i < len; i += L) {
            FloatVector v = FloatVector.fromArray(F, w, i);
            a0 = v.fma(FloatVector.fromArray(F, x, xo + i), a0);
            a1 = v.fma(FloatVector.fromArray(F, x, xo + len + i), a1);
            a2 = v.fma(FloatVector.fromArray(F, x, xo + 2 * len + i), a2);
            a3 = v.fma(FloatVector.fromArray(F, x, xo + 3 * len + i), a3);
        }
        out[0] = a0.reduceLanes(VectorOperators.ADD);
        out[1] = a1.reduceLanes(VectorOperators.ADD);
        out[2] = a2.reduceLanes(VectorOperators.ADD);
        out[3] = a3.reduceLanes(VectorOperators.ADD);
    }

    /**
     * Sums of consecutive groups of {@code group} values of each activation row: F32 [n, cols/group]. Kernels with
     * per-group offsets ("mins") use them to apply {@code Σ_g min_g·Σx_g} once per group instead of per value.
     */
    static float[] groupSums(float[] x, int n, int cols, int group) {
        int groups = cols / group;
        float[] sums = new float[n * groups];
        for (int t = 0; t < n; t++) {
            for (int g = 0; g < groups; g++) {
                int base = t * cols + g * group;
                FloatVector acc = FloatVector.zero(F);
                for (int k = 0; k < group; k += L) {
                    acc = acc.add(FloatVector.fromArray(F, x, base + k));
                }
                sums[t * groups + g] = VectorMath.sumLanes(acc); // a fixed order: the same sums for every batch
            }
        }
        return sums;
    }
}
