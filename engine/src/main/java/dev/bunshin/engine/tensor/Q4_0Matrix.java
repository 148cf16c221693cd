package dev.bunshin.engine.tensor;

import dev.bunshin.engine.gguf.GgufTensor;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import static dev.bunshin.engine.tensor.VectorMath.F;
import static dev.bunshin.engine.tensor.VectorMath.L;
import static dev.bunshin.engine.tensor.VectorMath.sumLanes;

/**
 * Q4_0: blocks of 32 values, 18 bytes each (ggml's {@code block_q4_0}):
 * <pre>
 * typedef struct { ggml_half d; uint8_t qs[16]; } block_q4_0;
 * // value j      = ((qs[j] &amp; 0x0F) - 8) * d   for j in [0, 16)
 * // value j + 16 = ((qs[j] &gt;&gt;   4) - 8) * d
 * </pre>
 * On the first matmul the nibbles go to a heap {@code byte[]} (16 per block, same packing) and the scales to a
 * {@code float[]} (see {@link Q8_0Matrix} for why), each nibble stored as q - 8 in 4-bit two's complement. The fast
 * kernel loads L nibble-pairs as a {@link ByteVector}, sign-extends them to int lanes, takes the high nibbles with an
 * arithmetic shift and the low ones with two, converts both to floats and multiplies with activations {@code [c]}
 * and {@code [c + 16]}; each block's partial sum is scaled once.
 */
final class Q4_0Matrix extends MappedMatrix {
    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final int QK = 32;
    static final int BLOCK_BYTES = 18;
    private static final VectorSpecies<Byte> B = VectorMath.VECTOR
            ? VectorSpecies.of(byte.class, VectorShape.forBitSize(L * 8)) : null;
    private static final VectorSpecies<Integer> I = VectorMath.VECTOR ? F.withLanes(int.class) : null;
    /** Byte vectors per block's 16 bytes of nibbles. */
    private static final int P = 16 / Math.max(L, 1);
    /** Two accumulator chains per token when a block is two float vectors (AVX-512): see the kernels. */
    private static final boolean PAIRED = P == 1 && VectorMath.PAIRED_CHAINS;

    /** Quants and scales copied out of the mapping; made on the first matmul (an embedding only decodes rows). */
    private volatile Packed packed;

    private record Packed(byte[] qs, float[] ds) {}

    Q4_0Matrix(GgufTensor t) {
        super(t);
    }

    private Packed packed() {
        Packed p = packed;
        if (p == null) {
            synchronized (this) {
                p = packed;
                if (p == null) {
                    long n = (long) rows * cols;
                    if (n / 2 > Integer.MAX_VALUE - 16) {
                        throw new IllegalArgumentException("tensor " + name + " has " + n + " values; too many for one array");
                    }
                    byte[] qs = new byte[(int) (n / 2)];
                    float[] ds = new float[(int) (n / QK)];
                    for (int b = 0; b < ds.length; b++) {
                        long off = (long) b * BLOCK_BYTES;
                        ds[b] = Float.float16ToFloat(data.get(LE_SHORT, off));
                        MemorySegment.copy(data, ValueLayout.JAVA_BYTE, off + 2, qs, b * 16, 16);
                        // Each nibble q becomes q - 8 in 4-bit two's complement (q ^ 8): see bytes().
                        for (int i = b * 16; i < b * 16 + 16; i++) qs[i] ^= (byte) 0x88;
                    }
                    packed = p = new Packed(qs, ds);
                }
            }
        }
        return p;
    }

    /** Rows per group of the tiled kernel. */
    private static final int ROW_GROUP = 16;

    @Override
    public void dequantizeRow(int r, float[] out, int off) {
        long e = (long) r * cols;
        for (int c = 0; c < cols; c++, e++) {
            long block = (e / QK) * BLOCK_BYTES;
            float d = Float.float16ToFloat(data.get(LE_SHORT, block));
            int j = (int) (e % QK);
            int b = data.get(ValueLayout.JAVA_BYTE, block + 2 + (j & 15)) & 0xFF;
            int q = j < 16 ? (b & 0x0F) : (b >>> 4);
            out[off + c] = (q - 8) * d;
        }
    }

    @Override
    public void matmul(float[] x, float[] y, int n, int rowStart, int rowEnd) {
        if (!VectorMath.VECTOR || !rowAligned) {
            decodedMatmul(x, y, n, rowStart, rowEnd);
            return;
        }
        Packed p = packed();
        tiled(p.qs(), p.ds(), x, y, n, rowStart, rowEnd);
    }

    /**
     * L nibble-pairs sign-extended to int lanes. The packed nibbles hold q - 8 as 4-bit two's complement, so the
     * high one is the lane shifted right arithmetically and the low one two shifts: three integer operations per
     * pair instead of a mask, a shift and two subtractions (the same values, so the same sums).
     */
    private static IntVector bytes(byte[] qs, int at) {
        return (IntVector) ByteVector.fromArray(B, qs, at).convertShape(VectorOperators.B2I, I, 0);
    }

    private static FloatVector lo(IntVector v) {
        return (FloatVector) v.lanewise(VectorOperators.LSHL, 28).lanewise(VectorOperators.ASHR, 28)
                .convert(VectorOperators.I2F, 0);
    }

    private static FloatVector hi(IntVector v) {
        return (FloatVector) v.lanewise(VectorOperators.ASHR, 4).convert(VectorOperators.I2F, 0);
    }

    // Every tile size does the same operations per (row, token), so a token's result does not depend on the
    // batch it came in.
    // BEGIN GENERATED (tools/gen_kernels.py)
    /** Rows in groups small enough to stay in L1/L2 while every token tile passes over them. */
    private void tiled(byte[] qs, float[] ds, float[] x, float[] y, int n, int rowStart, int rowEnd) {
        for (int g = rowStart; g < rowEnd; g += ROW_GROUP) {
            int gEnd = Math.min(rowEnd, g + ROW_GROUP);
            int t = 0;
            for (; t + 4 <= n; t += 4) {
                for (int r = g; r < gEnd; r++) row4(qs, ds, r, x, y, t);
            }
            for (; t + 2 <= n; t += 2) {
                for (int r = g; r < gEnd; r++) row2(qs, ds, r, x, y, t);
            }
            for (; t + 1 <= n; t += 1) {
                for (int r = g; r < gEnd; r++) row1(qs, ds, r, x, y, t);
            }
        }
    }

    private void row4(byte[] qs, float[] ds, int r, float[] x, float[] y, int t) {
        int nb = cols / QK;
        int qb = r * (cols / 2), db = r * nb;
        int x0 = t * cols, x1 = x0 + cols, x2 = x1 + cols, x3 = x2 + cols;
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        if (PAIRED) {
            FloatVector c0 = FloatVector.zero(F), c1 = FloatVector.zero(F), c2 = FloatVector.zero(F), c3 = FloatVector.zero(F);
            for (int b = 0; b < nb; b++) {
                {
                    FloatVector n0 = c0, n1 = c1, n2 = c2, n3 = c3;
                    int q = qb + b * 16, c = b * QK;
                    IntVector v = bytes(qs, q);
                    FloatVector wl = lo(v), wh = hi(v);
                    FloatVector s0 = wl.mul(FloatVector.fromArray(F, x, x0 + c));
                    FloatVector s1 = wl.mul(FloatVector.fromArray(F, x, x1 + c));
                    FloatVector s2 = wl.mul(FloatVector.fromArray(F, x, x2 + c));
                    FloatVector s3 = wl.mul(FloatVector.fromArray(F, x, x3 + c));
                    s0 = wh.fma(FloatVector.fromArray(F, x, x0 + c + 16), s0);
                    s1 = wh.fma(FloatVector.fromArray(F, x, x1 + c + 16), s1);
                    s2 = wh.fma(FloatVector.fromArray(F, x, x2 + c + 16), s2);
                    s3 = wh.fma(FloatVector.fromArray(F, x, x3 + c + 16), s3);
                    for (int p = 1; p < P; p++) {
                        v = bytes(qs, q + p * L);
                        wl = lo(v);
                        wh = hi(v);
                        int cp = c + p * L;
                        s0 = wl.fma(FloatVector.fromArray(F, x, x0 + cp), s0);
                        s1 = wl.fma(FloatVector.fromArray(F, x, x1 + cp), s1);
                        s2 = wl.fma(FloatVector.fromArray(F, x, x2 + cp), s2);
                        s3 = wl.fma(FloatVector.fromArray(F, x, x3 + cp), s3);
                        s0 = wh.fma(FloatVector.fromArray(F, x, x0 + cp + 16), s0);
                        s1 = wh.fma(FloatVector.fromArray(F, x, x1 + cp + 16), s1);
                        s2 = wh.fma(FloatVector.fromArray(F, x, x2 + cp + 16), s2);
                        s3 = wh.fma(FloatVector.fromArray(F, x, x3 + cp + 16), s3);
                    }
                    FloatVector d = FloatVector.broadcast(F, ds[db + b]);
                    n0 = s0.fma(d, n0);
                    n1 = s1.fma(d, n1);
                    n2 = s2.fma(d, n2);
                    n3 = s3.fma(d, n3);
                    c0 = a0;
                    a0 = n0;
                    c1 = a1;
                    a1 = n1;
                    c2 = a2;
                    a2 = n2;
                    c3 = a3;
                    a3 = n3;
                }
            }
            y[(t + 0) * rows + r] = sumLanes(a0.add(c0));
            y[(t + 1) * rows + r] = sumLanes(a1.add(c1));
            y[(t + 2) * rows + r] = sumLanes(a2.add(c2));
            y[(t + 3) * rows + r] = sumLanes(a3.add(c3));
        } else {
            for (int b = 0; b < nb; b++) {
                {
                    int q = qb + b * 16, c = b * QK;
                    IntVector v = bytes(qs, q);
                    FloatVector wl = lo(v), wh = hi(v);
                    FloatVector s0 = wl.mul(FloatVector.fromArray(F, x, x0 + c));
                    FloatVector s1 = wl.mul(FloatVector.fromArray(F, x, x1 + c));
                    FloatVector s2 = wl.mul(FloatVector.fromArray(F, x, x2 + c));
                    FloatVector s3 = wl.mul(FloatVector.fromArray(F, x, x3 + c));
                    s0 = wh.fma(FloatVector.fromArray(F, x, x0 + c + 16), s0);
                    s1 = wh.fma(FloatVector.fromArray(F, x, x1 + c + 16), s1);
                    s2 = wh.fma(FloatVector.fromArray(F, x, x2 + c + 16), s2);
                    s3 = wh.fma(FloatVector.fromArray(F, x, x3 + c + 16), s3);
                    for (int p = 1; p < P; p++) {
                        v = bytes(qs, q + p * L);
                        wl = lo(v);
                        wh = hi(v);
                        int cp = c + p * L;
                        s0 = wl.fma(FloatVector.fromArray(F, x, x0 + cp), s0);
                        s1 = wl.fma(FloatVector.fromArray(F, x, x1 + cp), s1);
                        s2 = wl.fma(FloatVector.fromArray(F, x, x2 + cp), s2);
                        s3 = wl.fma(FloatVector.fromArray(F, x, x3 + cp), s3);
                        s0 = wh.fma(FloatVector.fromArray(F, x, x0 + cp + 16), s0);
                        s1 = wh.fma(FloatVector.fromArray(F, x, x1 + cp + 16), s1);
                        s2 = wh.fma(FloatVector.fromArray(F, x, x2 + cp + 16), s2);
                        s3 = wh.fma(FloatVector.fromArray(F, x, x3 + cp + 16), s3);
                    }
                    FloatVector d = FloatVector.broadcast(F, ds[db + b]);
                    a0 = s0.fma(d, a0);
                    a1 = s1.fma(d, a1);
                    a2 = s2.fma(d, a2);
                    a3 = s3.fma(d, a3);
                }
            }
            y[(t + 0) * rows + r] = sumLanes(a0);
            y[(t + 1) * rows + r] = sumLanes(a1);
            y[(t + 2) * rows + r] = sumLanes(a2);
            y[(t + 3) * rows + r] = sumLanes(a3);
        }
    }

    private void row2(byte[] qs, float[] ds, int r, float[] x, float[] y, int t) {
        int nb = cols / QK;
        int qb = r * (cols / 2), db = r * nb;
        int x0 = t * cols, x1 = x0 + cols;
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F);
        if (PAIRED) {
            FloatVector c0 = FloatVector.zero(F), c1 = FloatVector.zero(F);
            for (int b = 0; b < nb; b++) {
                {
                    FloatVector n0 = c0, n1 = c1;
                    int q = qb + b * 16, c = b * QK;
                    IntVector v = bytes(qs, q);
                    FloatVector wl = lo(v), wh = hi(v);
                    FloatVector s0 = wl.mul(FloatVector.fromArray(F, x, x0 + c));
                    FloatVector s1 = wl.mul(FloatVector.fromArray(F, x, x1 + c));
                    s0 = wh.fma(FloatVector.fromArray(F, x, x0 + c + 16), s0);
                    s1 = wh.fma(FloatVector.fromArray(F, x, x1 + c + 16), s1);
                    for (int p = 1; p < P; p++) {
                        v = bytes(qs, q + p * L);
                        wl = lo(v);
                        wh = hi(v);
                        int cp = c + p * L;
                        s0 = wl.fma(FloatVector.fromArray(F, x, x0 + cp), s0);
                        s1 = wl.fma(FloatVector.fromArray(F, x, x1 + cp), s1);
                        s0 = wh.fma(FloatVector.fromArray(F, x, x0 + cp + 16), s0);
                        s1 = wh.fma(FloatVector.fromArray(F, x, x1 + cp + 16), s1);
                    }
                    FloatVector d = FloatVector.broadcast(F, ds[db + b]);
                    n0 = s0.fma(d, n0);
                    n1 = s1.fma(d, n1);
                    c0 = a0;
                    a0 = n0;
                    c1 = a1;
                    a1 = n1;
                }
            }
            y[(t + 0) * rows + r] = sumLanes(a0.add(c0));
            y[(t + 1) * rows + r] = sumLanes(a1.add(c1));
        } else {
            for (int b = 0; b < nb; b++) {
                {
                    int q = qb + b * 16, c = b * QK;
                    IntVector v = bytes(qs, q);
                    FloatVector wl = lo(v), wh = hi(v);
                    FloatVector s0 = wl.mul(FloatVector.fromArray(F, x, x0 + c));
                    FloatVector s1 = wl.mul(FloatVector.fromArray(F, x, x1 + c));
                    s0 = wh.fma(FloatVector.fromArray(F, x, x0 + c + 16), s0);
                    s1 = wh.fma(FloatVector.fromArray(F, x, x1 + c + 16), s1);
                    for (int p = 1; p < P; p++) {
                        v = bytes(qs, q + p * L);
                        wl = lo(v);
                        wh = hi(v);
                        int cp = c + p * L;
                        s0 = wl.fma(FloatVector.fromArray(F, x, x0 + cp), s0);
                        s1 = wl.fma(FloatVector.fromArray(F, x, x1 + cp), s1);
                        s0 = wh.fma(FloatVector.fromArray(F, x, x0 + cp + 16), s0);
                        s1 = wh.fma(FloatVector.fromArray(F, x, x1 + cp + 16), s1);
                    }
                    FloatVector d = FloatVector.broadcast(F, ds[db + b]);
                    a0 = s0.fma(d, a0);
                    a1 = s1.fma(d, a1);
                }
            }
            y[(t + 0) * rows + r] = sumLanes(a0);
            y[(t + 1) * rows + r] = sumLanes(a1);
        }
    }

    private void row1(byte[] qs, float[] ds, int r, float[] x, float[] y, int t) {
        int nb = cols / QK;
        int qb = r * (cols / 2), db = r * nb;
        int x0 = t * cols;
        FloatVector a0 = FloatVector.zero(F);
        if (PAIRED) {
            FloatVector c0 = FloatVector.zero(F);
            for (int b = 0; b < nb; b++) {
                {
                    FloatVector n0 = c0;
                    int q = qb + b * 16, c = b * QK;
                    IntVector v = bytes(qs, q);
                    FloatVector wl = lo(v), wh = hi(v);
                    FloatVector s0 = wl.mul(FloatVector.fromArray(F, x, x0 + c));
                    s0 = wh.fma(FloatVector.fromArray(F, x, x0 + c + 16), s0);
                    for (int p = 1; p < P; p++) {
                        v = bytes(qs, q + p * L);
                        wl = lo(v);
                        wh = hi(v);
                        int cp = c + p * L;
                        s0 = wl.fma(FloatVector.fromArray(F, x, x0 + cp), s0);
                        s0 = wh.fma(FloatVector.fromArray(F, x, x0 + cp + 16), s0);
                    }
                    FloatVector d = FloatVector.broadcast(F, ds[db + b]);
                    n0 = s0.fma(d, n0);
                    c0 = a0;
                    a0 = n0;
                }
            }
            y[(t + 0) * rows + r] = sumLanes(a0.add(c0));
        } else {
            for (int b = 0; b < nb; b++) {
                {
                    int q = qb + b * 16, c = b * QK;
                    IntVector v = bytes(qs, q);
                    FloatVector wl = lo(v), wh = hi(v);
                    FloatVector s0 = wl.mul(FloatVector.fromArray(F, x, x0 + c));
                    s0 = wh.fma(FloatVector.fromArray(F, x, x0 + c + 16), s0);
                    for (int p = 1; p < P; p++) {
                        v = bytes(qs, q + p * L);
                        wl = lo(v);
                        wh = hi(v);
                        int cp = c + p * L;
                        s0 = wl.fma(FloatVector.fromArray(F, x, x0 + cp), s0);
                        s0 = wh.fma(FloatVector.fromArray(F, x, x0 + cp + 16), s0);
                    }
                    FloatVector d = FloatVector.broadcast(F, ds[db + b]);
                    a0 = s0.fma(d, a0);
                }
            }
            y[(t + 0) * rows + r] = sumLanes(a0);
        }
    }
    // END GENERATED
}
