package dev.bunshin.engine.tensor;

import dev.bunshin.engine.gguf.GgmlType;
import dev.bunshin.engine.gguf.GgufException;
import dev.bunshin.engine.gguf.GgufTensor;

import java.lang.foreign.MemorySegment;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import static dev.bunshin.engine.tensor.Kernels.B;
import static dev.bunshin.engine.tensor.Kernels.F;
import static dev.bunshin.engine.tensor.Kernels.L;
import static dev.bunshin.engine.tensor.VectorMath.sumLanes;

/**
 * Block types whose every value is {@code scale_g · q + min_g} with a small integer q and one float scale (and
 * min) per group of 16 or 32 values: Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K. At load time each block
 * is unpacked into one signed byte per value plus float scales and mins per group; the kernel then needs one
 * byte-to-float conversion and one FMA per value and one scale FMA per group, whatever the bit packing of the
 * format. A tile of up to 4 tokens (8 with AVX-512) shares each converted weight vector.
 *
 * <p>This costs about 1.1–1.5 bytes per weight of memory traffic and heap instead of the format's 0.3–0.8. On
 * AVX2 with two threads decode is bound by compute: kernels on the packed bits (masks and shifts before each
 * conversion) measured 1.5× (Q4_K) to 6× (Q6_K) slower than this layout.
 */
abstract class Int8GroupMatrix extends RepackedMatrix {

    /** Unpacks one block at {@code off} into quants {@code q[qo ..]} and per-group {@code scale/min[go ..]}. */
    @FunctionalInterface
    interface Unpacker {
        void unpack(MemorySegment s, long off, byte[] q, int qo, float[] scale, float[] min, int go);
    }

    final int group;
    final byte[] q;       // I8 [rows, cols]
    final float[] scale;  // F32 [rows, cols/group]
    final float[] min;    // F32 [rows, cols/group], null when the format has no offsets

    Int8GroupMatrix(GgufTensor t, GgmlType type, int group, boolean hasMin, Unpacker unpacker) throws GgufException {
        super(t, type);
        this.group = group;
        int groups = cols / group;
        this.q = new byte[rows * cols];
        this.scale = new float[rows * groups];
        this.min = hasMin ? new float[rows * groups] : null;
        float[] minOrScratch = hasMin ? min : new float[rows * groups];
        int blocksPerRow = cols / type.blockSize;
        int groupsPerBlock = type.blockSize / group;
        for (int r = 0; r < rows; r++) {
            for (int b = 0; b < blocksPerRow; b++) {
                unpacker.unpack(data, r * rowBytes + (long) b * type.typeSize, q, r * cols + b * type.blockSize,
                        scale, minOrScratch, r * groups + b * groupsPerBlock);
            }
        }
    }

    /** Rows per group of the tiled kernel. */
    private static final int ROW_GROUP = 16;
    private static final VectorSpecies<Integer> I = F.withLanes(int.class);

    @Override
    final void kernel(float[] x, float[] y, int n, int rowStart, int rowEnd) {
        float[] sums = min == null ? null : Kernels.groupSums(x, n, cols, group);
        tiled(x, sums, y, n, rowStart, rowEnd);
    }

    /** L signed bytes as floats: sign-extended to int lanes, then converted (faster on AVX2 than a direct B2F). */
    private static FloatVector w(byte[] q, int at) {
        return (FloatVector) ByteVector.fromArray(B, q, at).convertShape(VectorOperators.B2I, I, 0)
                .convert(VectorOperators.I2F, 0);
    }

    /** Σ_g min_g·Σx_g of row r (its groups from {@code go}) for the token whose group sums start at {@code so}. */
    private float minTerm(int go, float[] sums, int so) {
        return min == null ? 0f : VectorMath.dot(min, go, sums, so, cols / group);
    }

    // Each group's products are summed first and scaled once; every tile size does the same operations per
    // (row, token), so a token's result does not depend on the batch it came in.
    // BEGIN GENERATED (tools/gen_kernels.py)
    /** Rows in groups small enough to stay in L1/L2 while every token tile passes over them. */
    private void tiled(float[] x, float[] sums, float[] y, int n, int rowStart, int rowEnd) {
        int p = group / L;
        for (int g = rowStart; g < rowEnd; g += ROW_GROUP) {
            int gEnd = Math.min(rowEnd, g + ROW_GROUP);
            int t = 0;
            for (; t + 4 <= n; t += 4) {
                for (int r = g; r < gEnd; r++) {
                    switch (p) {
                        case 1 -> row4p1(r, x, sums, y, t);
                        case 2 -> row4p2(r, x, sums, y, t);
                        case 4 -> row4p4(r, x, sums, y, t);
                        default -> throw new IllegalStateException("group " + group + " with " + L + " lanes");
                    }
                }
            }
            for (; t + 2 <= n; t += 2) {
                for (int r = g; r < gEnd; r++) {
                    switch (p) {
                        case 1 -> row2p1(r, x, sums, y, t);
                        case 2 -> row2p2(r, x, sums, y, t);
                        case 4 -> row2p4(r, x, sums, y, t);
                        default -> throw new IllegalStateException("group " + group + " with " + L + " lanes");
                    }
                }
            }
            for (; t + 1 <= n; t += 1) {
                for (int r = g; r < gEnd; r++) {
                    switch (p) {
                        case 1 -> row1p1(r, x, sums, y, t);
                        case 2 -> row1p2(r, x, sums, y, t);
                        case 4 -> row1p4(r, x, sums, y, t);
                        default -> throw new IllegalStateException("group " + group + " with " + L + " lanes");
                    }
                }
            }
        }
    }

    private void row4p1(int r, float[] x, float[] sums, float[] y, int t) {
        int nb = cols / group;
        int qo = r * cols, go = r * nb;
        int x0 = t * cols, x1 = x0 + cols, x2 = x1 + cols, x3 = x2 + cols;
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        for (int b = 0; b < nb; b++) {
            {
                int i = b * 1 * L;
                FloatVector w = w(q, qo + i);
                FloatVector s0 = w.mul(FloatVector.fromArray(F, x, x0 + i));
                FloatVector s1 = w.mul(FloatVector.fromArray(F, x, x1 + i));
                FloatVector s2 = w.mul(FloatVector.fromArray(F, x, x2 + i));
                FloatVector s3 = w.mul(FloatVector.fromArray(F, x, x3 + i));
                FloatVector d = FloatVector.broadcast(F, scale[go + b]);
                a0 = s0.fma(d, a0);
                a1 = s1.fma(d, a1);
                a2 = s2.fma(d, a2);
                a3 = s3.fma(d, a3);
            }
        }
        y[(t + 0) * rows + r] = sumLanes(a0) + minTerm(go, sums, (t + 0) * nb);
        y[(t + 1) * rows + r] = sumLanes(a1) + minTerm(go, sums, (t + 1) * nb);
        y[(t + 2) * rows + r] = sumLanes(a2) + minTerm(go, sums, (t + 2) * nb);
        y[(t + 3) * rows + r] = sumLanes(a3) + minTerm(go, sums, (t + 3) * nb);
    }

    private void row4p2(int r, float[] x, float[] sums, float[] y, int t) {
        int nb = cols / group;
        int qo = r * cols, go = r * nb;
        int x0 = t * cols, x1 = x0 + cols, x2 = x1 + cols, x3 = x2 + cols;
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        for (int b = 0; b < nb; b++) {
            {
                int i = b * 2 * L;
                FloatVector w = w(q, qo + i);
                FloatVector s0 = w.mul(FloatVector.fromArray(F, x, x0 + i));
                FloatVector s1 = w.mul(FloatVector.fromArray(F, x, x1 + i));
                FloatVector s2 = w.mul(FloatVector.fromArray(F, x, x2 + i));
                FloatVector s3 = w.mul(FloatVector.fromArray(F, x, x3 + i));
                w = w(q, qo + i + 1 * L);
                s0 = w.fma(FloatVector.fromArray(F, x, x0 + i + 1 * L), s0);
                s1 = w.fma(FloatVector.fromArray(F, x, x1 + i + 1 * L), s1);
                s2 = w.fma(FloatVector.fromArray(F, x, x2 + i + 1 * L), s2);
                s3 = w.fma(FloatVector.fromArray(F, x, x3 + i + 1 * L), s3);
                FloatVector d = FloatVector.broadcast(F, scale[go + b]);
                a0 = s0.fma(d, a0);
                a1 = s1.fma(d, a1);
                a2 = s2.fma(d, a2);
                a3 = s3.fma(d, a3);
            }
        }
        y[(t + 0) * rows + r] = sumLanes(a0) + minTerm(go, sums, (t + 0) * nb);
        y[(t + 1) * rows + r] = sumLanes(a1) + minTerm(go, sums, (t + 1) * nb);
        y[(t + 2) * rows + r] = sumLanes(a2) + minTerm(go, sums, (t + 2) * nb);
        y[(t + 3) * rows + r] = sumLanes(a3) + minTerm(go, sums, (t + 3) * nb);
    }

    private void row4p4(int r, float[] x, float[] sums, float[] y, int t) {
        int nb = cols / group;
        int qo = r * cols, go = r * nb;
        int x0 = t * cols, x1 = x0 + cols, x2 = x1 + cols, x3 = x2 + cols;
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        for (int b = 0; b < nb; b++) {
            {
                int i = b * 4 * L;
                FloatVector w = w(q, qo + i);
                FloatVector s0 = w.mul(FloatVector.fromArray(F, x, x0 + i));
                FloatVector s1 = w.mul(FloatVector.fromArray(F, x, x1 + i));
                FloatVector s2 = w.mul(FloatVector.fromArray(F, x, x2 + i));
                FloatVector s3 = w.mul(FloatVector.fromArray(F, x, x3 + i));
                FloatVector w1 = w(q, qo + i + 1 * L);
                FloatVector w2 = w(q, qo + i + 2 * L);
                FloatVector w3 = w(q, qo + i + 3 * L);
                FloatVector u0 = w1.mul(FloatVector.fromArray(F, x, x0 + i + L));
                s0 = w2.fma(FloatVector.fromArray(F, x, x0 + i + 2 * L), s0);
                u0 = w3.fma(FloatVector.fromArray(F, x, x0 + i + 3 * L), u0);
                s0 = s0.add(u0);
                FloatVector u1 = w1.mul(FloatVector.fromArray(F, x, x1 + i + L));
                s1 = w2.fma(FloatVector.fromArray(F, x, x1 + i + 2 * L), s1);
                u1 = w3.fma(FloatVector.fromArray(F, x, x1 + i + 3 * L), u1);
                s1 = s1.add(u1);
                FloatVector u2 = w1.mul(FloatVector.fromArray(F, x, x2 + i + L));
                s2 = w2.fma(FloatVector.fromArray(F, x, x2 + i + 2 * L), s2);
                u2 = w3.fma(FloatVector.fromArray(F, x, x2 + i + 3 * L), u2);
                s2 = s2.add(u2);
                FloatVector u3 = w1.mul(FloatVector.fromArray(F, x, x3 + i + L));
                s3 = w2.fma(FloatVector.fromArray(F, x, x3 + i + 2 * L), s3);
                u3 = w3.fma(FloatVector.fromArray(F, x, x3 + i + 3 * L), u3);
                s3 = s3.add(u3);
                FloatVector d = FloatVector.broadcast(F, scale[go + b]);
                a0 = s0.fma(d, a0);
                a1 = s1.fma(d, a1);
                a2 = s2.fma(d, a2);
                a3 = s3.fma(d, a3);
            }
        }
        y[(t + 0) * rows + r] = sumLanes(a0) + minTerm(go, sums, (t + 0) * nb);
        y[(t + 1) * rows + r] = sumLanes(a1) + minTerm(go, sums, (t + 1) * nb);
        y[(t + 2) * rows + r] = sumLanes(a2) + minTerm(go, sums, (t + 2) * nb);
        y[(t + 3) * rows + r] = sumLanes(a3) + minTerm(go, sums, (t + 3) * nb);
    }

    private void row2p1(int r, float[] x, float[] sums, float[] y, int t) {
        int nb = cols / group;
        int qo = r * cols, go = r * nb;
        int x0 = t * cols, x1 = x0 + cols;
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F);
        for (int b = 0; b < nb; b++) {
            {
                int i = b * 1 * L;
                FloatVector w = w(q, qo + i);
                FloatVector s0 = w.mul(FloatVector.fromArray(F, x, x0 + i));
                FloatVector s1 = w.mul(FloatVector.fromArray(F, x, x1 + i));
                FloatVector d = FloatVector.broadcast(F, scale[go + b]);
                a0 = s0.fma(d, a0);
                a1 = s1.fma(d, a1);
            }
        }
        y[(t + 0) * rows + r] = sumLanes(a0) + minTerm(go, sums, (t + 0) * nb);
        y[(t + 1) * rows + r] = sumLanes(a1) + minTerm(go, sums, (t + 1) * nb);
    }

    private void row2p2(int r, float[] x, float[] sums, float[] y, int t) {
        int nb = cols / group;
        int qo = r * cols, go = r * nb;
        int x0 = t * cols, x1 = x0 + cols;
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F);
        for (int b = 0; b < nb; b++) {
            {
                int i = b * 2 * L;
                FloatVector w = w(q, qo + i);
                FloatVector s0 = w.mul(FloatVector.fromArray(F, x, x0 + i));
                FloatVector s1 = w.mul(FloatVector.fromArray(F, x, x1 + i));
                w = w(q, qo + i + 1 * L);
                s0 = w.fma(FloatVector.fromArray(F, x, x0 + i + 1 * L), s0);
                s1 = w.fma(FloatVector.fromArray(F, x, x1 + i + 1 * L), s1);
                FloatVector d = FloatVector.broadcast(F, scale[go + b]);
                a0 = s0.fma(d, a0);
                a1 = s1.fma(d, a1);
            }
        }
        y[(t + 0) * rows + r] = sumLanes(a0) + minTerm(go, sums, (t + 0) * nb);
        y[(t + 1) * rows + r] = sumLanes(a1) + minTerm(go, sums, (t + 1) * nb);
    }

    private void row2p4(int r, float[] x, float[] sums, float[] y, int t) {
        int nb = cols / group;
        int qo = r * cols, go = r * nb;
        int x0 = t * cols, x1 = x0 + cols;
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F);
        for (int b = 0; b < nb; b++) {
            {
                int i = b * 4 * L;
                FloatVector w = w(q, qo + i);
                FloatVector s0 = w.mul(FloatVector.fromArray(F, x, x0 + i));
                FloatVector s1 = w.mul(FloatVector.fromArray(F, x, x1 + i));
                FloatVector w1 = w(q, qo + i + 1 * L);
                FloatVector w2 = w(q, qo + i + 2 * L);
                FloatVector w3 = w(q, qo + i + 3 * L);
                FloatVector u0 = w1.mul(FloatVector.fromArray(F, x, x0 + i + L));
                s0 = w2.fma(FloatVector.fromArray(F, x, x0 + i + 2 * L), s0);
                u0 = w3.fma(FloatVector.fromArray(F, x, x0 + i + 3 * L), u0);
                s0 = s0.add(u0);
                FloatVector u1 = w1.mul(FloatVector.fromArray(F, x, x1 + i + L));
                s1 = w2.fma(FloatVector.fromArray(F, x, x1 + i + 2 * L), s1);
                u1 = w3.fma(FloatVector.fromArray(F, x, x1 + i + 3 * L), u1);
                s1 = s1.add(u1);
                FloatVector d = FloatVector.broadcast(F, scale[go + b]);
                a0 = s0.fma(d, a0);
                a1 = s1.fma(d, a1);
            }
        }
        y[(t + 0) * rows + r] = sumLanes(a0) + minTerm(go, sums, (t + 0) * nb);
        y[(t + 1) * rows + r] = sumLanes(a1) + minTerm(go, sums, (t + 1) * nb);
    }

    private void row1p1(int r, float[] x, float[] sums, float[] y, int t) {
        int nb = cols / group;
        int qo = r * cols, go = r * nb;
        int x0 = t * cols;
        FloatVector a0 = FloatVector.zero(F);
        for (int b = 0; b < nb; b++) {
            {
                int i = b * 1 * L;
                FloatVector w = w(q, qo + i);
                FloatVector s0 = w.mul(FloatVector.fromArray(F, x, x0 + i));
                FloatVector d = FloatVector.broadcast(F, scale[go + b]);
                a0 = s0.fma(d, a0);
            }
        }
        y[(t + 0) * rows + r] = sumLanes(a0) + minTerm(go, sums, (t + 0) * nb);
    }

    private void row1p2(int r, float[] x, float[] sums, float[] y, int t) {
        int nb = cols / group;
        int qo = r * cols, go = r * nb;
        int x0 = t * cols;
        FloatVector a0 = FloatVector.zero(F);
        for (int b = 0; b < nb; b++) {
            {
                int i = b * 2 * L;
                FloatVector w = w(q, qo + i);
                FloatVector s0 = w.mul(FloatVector.fromArray(F, x, x0 + i));
                w = w(q, qo + i + 1 * L);
                s0 = w.fma(FloatVector.fromArray(F, x, x0 + i + 1 * L), s0);
                FloatVector d = FloatVector.broadcast(F, scale[go + b]);
                a0 = s0.fma(d, a0);
            }
        }
        y[(t + 0) * rows + r] = sumLanes(a0) + minTerm(go, sums, (t + 0) * nb);
    }

    private void row1p4(int r, float[] x, float[] sums, float[] y, int t) {
        int nb = cols / group;
        int qo = r * cols, go = r * nb;
        int x0 = t * cols;
        FloatVector a0 = FloatVector.zero(F);
        for (int b = 0; b < nb; b++) {
            {
                int i = b * 4 * L;
                FloatVector w = w(q, qo + i);
                FloatVector s0 = w.mul(FloatVector.fromArray(F, x, x0 + i));
                FloatVector w1 = w(q, qo + i + 1 * L);
                FloatVector w2 = w(q, qo + i + 2 * L);
                FloatVector w3 = w(q, qo + i + 3 * L);
                FloatVector u0 = w1.mul(FloatVector.fromArray(F, x, x0 + i + L));
                s0 = w2.fma(FloatVector.fromArray(F, x, x0 + i + 2 * L), s0);
                u0 = w3.fma(FloatVector.fromArray(F, x, x0 + i + 3 * L), u0);
                s0 = s0.add(u0);
                FloatVector d = FloatVector.broadcast(F, scale[go + b]);
                a0 = s0.fma(d, a0);
            }
        }
        y[(t + 0) * rows + r] = sumLanes(a0) + minTerm(go, sums, (t + 0) * nb);
    }
    // END GENERATED

    @Override
    final void decodeRow(int r, float[] out) {
        int groups = cols / group;
        int qo = r * cols;
        int go = r * groups;
        for (int g = 0; g < groups; g++) {
            FloatVector s = FloatVector.broadcast(F, scale[go + g]);
            FloatVector m = FloatVector.broadcast(F, min == null ? 0f : min[go + g]);
            for (int k = 0; k < group; k += L) {
                int i = g * group + k;
                w(q, qo + i).fma(s, m).intoArray(out, i);
            }
        }
    }
}
