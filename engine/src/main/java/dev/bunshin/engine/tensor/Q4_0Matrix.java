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
        for (int r = rowStart; r < rowEnd; r++) {
            int t = 0;
            for (; t + 4 <= n; t += 4) {
                row4(r, x, y, t);
            }
            for (; t < n; t++) {
                row1(r, x, y, t);
            }
        }
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

    // row1 and row4 do the same operations per (row, token): a token's result does not depend on the batch.
    private void row1(int r, float[] x, float[] y, int t) {
        long base = r * rowBytes;
        int nb = cols / QK;
        int x0 = t * cols;
        FloatVector a0 = FloatVector.zero(F);
        for (int b = 0; b < nb; b++) {
            long blk = base + (long) b * BLOCK_BYTES;
            int xc = x0 + b * QK;
            ByteVector v = bytes(blk + 2);
            FloatVector s0 = lo(v).mul(FloatVector.fromArray(F, x, xc));
            s0 = hi(v).fma(FloatVector.fromArray(F, x, xc + 16), s0);
            for (int p = 1; p < P; p++) {
                v = bytes(blk + 2 + p * L);
                s0 = lo(v).fma(FloatVector.fromArray(F, x, xc + p * L), s0);
                s0 = hi(v).fma(FloatVector.fromArray(F, x, xc + 16 + p * L), s0);
            }
            a0 = s0.fma(FloatVector.broadcast(F, scale(blk)), a0);
        }
        y[t * rows + r] = sumLanes(a0);
    }

    private void row4(int r, float[] x, float[] y, int t) {
        long base = r * rowBytes;
        int nb = cols / QK;
        int x0 = t * cols, x1 = x0 + cols, x2 = x1 + cols, x3 = x2 + cols;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        for (int b = 0; b < nb; b++) {
            long blk = base + (long) b * BLOCK_BYTES;
            int xc = b * QK;
            ByteVector v = bytes(blk + 2);
            FloatVector wl = lo(v), wh = hi(v);
            FloatVector s0 = wl.mul(FloatVector.fromArray(F, x, x0 + xc));
            FloatVector s1 = wl.mul(FloatVector.fromArray(F, x, x1 + xc));
            FloatVector s2 = wl.mul(FloatVector.fromArray(F, x, x2 + xc));
            FloatVector s3 = wl.mul(FloatVector.fromArray(F, x, x3 + xc));
            s0 = wh.fma(FloatVector.fromArray(F, x, x0 + xc + 16), s0);
            s1 = wh.fma(FloatVector.fromArray(F, x, x1 + xc + 16), s1);
            s2 = wh.fma(FloatVector.fromArray(F, x, x2 + xc + 16), s2);
            s3 = wh.fma(FloatVector.fromArray(F, x, x3 + xc + 16), s3);
            for (int p = 1; p < P; p++) {
                v = bytes(blk + 2 + p * L);
                wl = lo(v);
                wh = hi(v);
                int c = xc + p * L;
                s0 = wl.fma(FloatVector.fromArray(F, x, x0 + c), s0);
                s1 = wl.fma(FloatVector.fromArray(F, x, x1 + c), s1);
                s2 = wl.fma(FloatVector.fromArray(F, x, x2 + c), s2);
                s3 = wl.fma(FloatVector.fromArray(F, x, x3 + c), s3);
                s0 = wh.fma(FloatVector.fromArray(F, x, x0 + c + 16), s0);
                s1 = wh.fma(FloatVector.fromArray(F, x, x1 + c + 16), s1);
                s2 = wh.fma(FloatVector.fromArray(F, x, x2 + c + 16), s2);
                s3 = wh.fma(FloatVector.fromArray(F, x, x3 + c + 16), s3);
            }
            FloatVector d = FloatVector.broadcast(F, scale(blk));
            a0 = s0.fma(d, a0);
            a1 = s1.fma(d, a1);
            a2 = s2.fma(d, a2);
            a3 = s3.fma(d, a3);
        }
        y[t * rows + r] = sumLanes(a0);
        y[(t + 1) * rows + r] = sumLanes(a1);
        y[(t + 2) * rows + r] = sumLanes(a2);
        y[(t + 3) * rows + r] = sumLanes(a3);
    }
}
