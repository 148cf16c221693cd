package dev.bunshin.engine.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/** Vector species and the activation group sums shared by the repacked quantized kernels. */
final class Kernels {
    private Kernels() {}

    /**
     * Float lanes per vector: {@link VectorMath#F} (the machine's preferred width, or the one
     * {@code -Dbunshin.vector.bits} names), at least 8 (AVX2) and at most 16 (AVX-512). Block kernels rely on 16- and
     * 32-value groups being whole multiples of it.
     */
    static final VectorSpecies<Float> F = VectorMath.F.length() < 8 ? FloatVector.SPECIES_256 : VectorMath.F;
    static final int L = F.length();
    /** Bytes with as many lanes as {@link #F}, so that one converted byte vector (part 0) fills one float vector. */
    static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(L * 8));

    static {
        if (16 % L != 0) {
            throw new IllegalStateException("unsupported vector width: " + L + " float lanes");
        }
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
