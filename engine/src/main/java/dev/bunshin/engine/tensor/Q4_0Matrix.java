package dev.bunshin.engine.tensor;

import dev.bunshin.engine.gguf.GgufTensor;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

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
 * The fast kernel loads L nibble-pairs as a {@link ByteVector}, splits low and high nibbles with a mask and a
 * logical shift, widens both to float lanes and multiplies with activations {@code [c]} and {@code [c + 16]}.
 */
final class Q4_0Matrix extends MappedMatrix {
    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final int QK = 32;
    static final int BLOCK_BYTES = 18;
    private static final VectorSpecies<Byte> B = VectorMath.VECTOR
            ? VectorSpecies.of(byte.class, VectorShape.forBitSize(L * 8)) : null;
    /** Byte vectors per block's 16 bytes of nibbles. */
    private static final int P = 16 / Math.max(L, 1);

    Q4_0Matrix(GgufTensor t) {
        super(t);
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
        tiled(x, y, n, rowStart, rowEnd);
    }

    private ByteVector bytes(long at) {
        return ByteVector.fromMemorySegment(B, data, at, ByteOrder.LITTLE_ENDIAN);
    }

    private static FloatVector lo(ByteVector v) {
        return (FloatVector) v.and((byte) 0x0F).sub((byte) 8).convertShape(VectorOperators.B2F, F, 0);
    }

    private static FloatVector hi(ByteVector v) {
        return (FloatVector) v.lanewise(VectorOperators.LSHR, 4).sub((byte) 8).convertShape(VectorOperators.B2F, F, 0);
    }

    private float scale(long block) {
        return Float.float16ToFloat(data.get(LE_SHORT, block));
    }

    // Every tile size does the same operations per (row, token), so a token's result does not depend on the
    // batch it came in.
    // BEGIN GENERATED (tools/gen_kernels.py)
    /** Rows in groups small enough to stay in L1/L2 while every token tile passes over them. */
    private void tiled(float[] x, float[] y, int n, int rowStart, int rowEnd) {
        for (int g = rowStart; g < rowEnd; g += ROW_GROUP) {
            int gEnd = Math.min(rowEnd, g + ROW_GROUP);
            int t = 0;
            for (; t + 8 <= n; t += 8) {
                for (int r = g; r < gEnd; r++) row8(r, x, y, t);
            }
            for (; t + 4 <= n; t += 4) {
                for (int r = g; r < gEnd; r++) row4(r, x, y, t);
            }
            for (; t + 1 <= n; t += 1) {
                for (int r = g; r < gEnd; r++) row1(r, x, y, t);
            }
        }
    }

    private void row8(int r, float[] x, float[] y, int t) {
        long base = r * rowBytes;
        int nb = cols / QK;
        int x0 = t * cols, x1 = x0 + cols, x2 = x1 + cols, x3 = x2 + cols, x4 = x3 + cols, x5 = x4 + cols, x6 = x5 + cols, x7 = x6 + cols;
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F), a4 = FloatVector.zero(F), a5 = FloatVector.zero(F), a6 = FloatVector.zero(F), a7 = FloatVector.zero(F);
        for (int b = 0; b < nb; b++) {
            long blk = base + (long) b * BLOCK_BYTES;
            FloatVector d = FloatVector.broadcast(F, scale(blk));
            for (int p = 0; p < P; p++) {
                ByteVector v = bytes(blk + 2 + p * L);
                FloatVector wl = lo(v).mul(d), wh = hi(v).mul(d);
                int c = b * QK + p * L;
                a0 = wl.fma(FloatVector.fromArray(F, x, x0 + c), a0);
                a1 = wl.fma(FloatVector.fromArray(F, x, x1 + c), a1);
                a2 = wl.fma(FloatVector.fromArray(F, x, x2 + c), a2);
                a3 = wl.fma(FloatVector.fromArray(F, x, x3 + c), a3);
                a4 = wl.fma(FloatVector.fromArray(F, x, x4 + c), a4);
                a5 = wl.fma(FloatVector.fromArray(F, x, x5 + c), a5);
                a6 = wl.fma(FloatVector.fromArray(F, x, x6 + c), a6);
                a7 = wl.fma(FloatVector.fromArray(F, x, x7 + c), a7);
                a0 = wh.fma(FloatVector.fromArray(F, x, x0 + c + 16), a0);
                a1 = wh.fma(FloatVector.fromArray(F, x, x1 + c + 16), a1);
                a2 = wh.fma(FloatVector.fromArray(F, x, x2 + c + 16), a2);
                a3 = wh.fma(FloatVector.fromArray(F, x, x3 + c + 16), a3);
                a4 = wh.fma(FloatVector.fromArray(F, x, x4 + c + 16), a4);
                a5 = wh.fma(FloatVector.fromArray(F, x, x5 + c + 16), a5);
                a6 = wh.fma(FloatVector.fromArray(F, x, x6 + c + 16), a6);
                a7 = wh.fma(FloatVector.fromArray(F, x, x7 + c + 16), a7);
            }
        }
        y[(t + 0) * rows + r] = sumLanes(a0);
        y[(t + 1) * rows + r] = sumLanes(a1);
        y[(t + 2) * rows + r] = sumLanes(a2);
        y[(t + 3) * rows + r] = sumLanes(a3);
        y[(t + 4) * rows + r] = sumLanes(a4);
        y[(t + 5) * rows + r] = sumLanes(a5);
        y[(t + 6) * rows + r] = sumLanes(a6);
        y[(t + 7) * rows + r] = sumLanes(a7);
    }

    private void row4(int r, float[] x, float[] y, int t) {
        long base = r * rowBytes;
        int nb = cols / QK;
        int x0 = t * cols, x1 = x0 + cols, x2 = x1 + cols, x3 = x2 + cols;
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        for (int b = 0; b < nb; b++) {
            long blk = base + (long) b * BLOCK_BYTES;
            FloatVector d = FloatVector.broadcast(F, scale(blk));
            for (int p = 0; p < P; p++) {
                ByteVector v = bytes(blk + 2 + p * L);
                FloatVector wl = lo(v).mul(d), wh = hi(v).mul(d);
                int c = b * QK + p * L;
                a0 = wl.fma(FloatVector.fromArray(F, x, x0 + c), a0);
                a1 = wl.fma(FloatVector.fromArray(F, x, x1 + c), a1);
                a2 = wl.fma(FloatVector.fromArray(F, x, x2 + c), a2);
                a3 = wl.fma(FloatVector.fromArray(F, x, x3 + c), a3);
                a0 = wh.fma(FloatVector.fromArray(F, x, x0 + c + 16), a0);
                a1 = wh.fma(FloatVector.fromArray(F, x, x1 + c + 16), a1);
                a2 = wh.fma(FloatVector.fromArray(F, x, x2 + c + 16), a2);
                a3 = wh.fma(FloatVector.fromArray(F, x, x3 + c + 16), a3);
            }
        }
        y[(t + 0) * rows + r] = sumLanes(a0);
        y[(t + 1) * rows + r] = sumLanes(a1);
        y[(t + 2) * rows + r] = sumLanes(a2);
        y[(t + 3) * rows + r] = sumLanes(a3);
    }

    private void row1(int r, float[] x, float[] y, int t) {
        long base = r * rowBytes;
        int nb = cols / QK;
        int x0 = t * cols;
        FloatVector a0 = FloatVector.zero(F);
        for (int b = 0; b < nb; b++) {
            long blk = base + (long) b * BLOCK_BYTES;
            FloatVector d = FloatVector.broadcast(F, scale(blk));
            for (int p = 0; p < P; p++) {
                ByteVector v = bytes(blk + 2 + p * L);
                FloatVector wl = lo(v).mul(d), wh = hi(v).mul(d);
                int c = b * QK + p * L;
                a0 = wl.fma(FloatVector.fromArray(F, x, x0 + c), a0);
                a0 = wh.fma(FloatVector.fromArray(F, x, x0 + c + 16), a0);
            }
        }
        y[(t + 0) * rows + r] = sumLanes(a0);
    }
    // END GENERATED
}
