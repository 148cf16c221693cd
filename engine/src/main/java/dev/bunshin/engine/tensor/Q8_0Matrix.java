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
 * Q8_0: blocks of 32 values, 34 bytes each (ggml's {@code block_q8_0}):
 * <pre>
 * typedef struct { ggml_half d; int8_t qs[32]; } block_q8_0;   // value j = qs[j] * d
 * </pre>
 * The fast kernel reads {@code L} int8 at a time straight from the mapping as a {@link ByteVector} of L lanes,
 * widens it to L float lanes, multiplies with the activations, and scales each block's partial sum by {@code d}
 * once. For a batch it converts a block once and uses it for 4 activation rows, so weights stream from memory
 * once per call.
 */
final class Q8_0Matrix extends MappedMatrix {
    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final int QK = 32;
    static final int BLOCK_BYTES = 34;
    /** Bytes with as many lanes as {@link VectorMath#F} (8 bytes for AVX2, 16 for AVX-512). */
    private static final VectorSpecies<Byte> B = VectorMath.VECTOR
            ? VectorSpecies.of(byte.class, VectorShape.forBitSize(L * 8)) : null;
    /** Float vectors per block. */
    private static final int P = QK / Math.max(L, 1);

    Q8_0Matrix(GgufTensor t) {
        super(t);
    }

    @Override
    public void dequantizeRow(int r, float[] out, int off) {
        // Element e of the tensor is value e % 32 of block e / 32; rows need not start on a block (GGUF v2).
        long e = (long) r * cols;
        for (int c = 0; c < cols; c++, e++) {
            long block = (e / QK) * BLOCK_BYTES;
            float d = Float.float16ToFloat(data.get(LE_SHORT, block));
            out[off + c] = data.get(ValueLayout.JAVA_BYTE, block + 2 + e % QK) * d;
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

    private FloatVector w(long at) {
        return (FloatVector) ByteVector.fromMemorySegment(B, data, at, ByteOrder.LITTLE_ENDIAN)
                .convertShape(VectorOperators.B2F, F, 0);
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
            long q = blk + 2;
            int xc = b * QK;
            FloatVector w = w(q);
            FloatVector s0 = w.mul(FloatVector.fromArray(F, x, x0 + xc));
            for (int p = 1; p < P; p++) {
                w = w(q + p * L);
                s0 = w.fma(FloatVector.fromArray(F, x, x0 + xc + p * L), s0);
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
            long q = blk + 2;
            int xc = b * QK;
            FloatVector w = w(q);
            FloatVector s0 = w.mul(FloatVector.fromArray(F, x, x0 + xc));
            FloatVector s1 = w.mul(FloatVector.fromArray(F, x, x1 + xc));
            FloatVector s2 = w.mul(FloatVector.fromArray(F, x, x2 + xc));
            FloatVector s3 = w.mul(FloatVector.fromArray(F, x, x3 + xc));
            for (int p = 1; p < P; p++) {
                w = w(q + p * L);
                int c = xc + p * L;
                s0 = w.fma(FloatVector.fromArray(F, x, x0 + c), s0);
                s1 = w.fma(FloatVector.fromArray(F, x, x1 + c), s1);
                s2 = w.fma(FloatVector.fromArray(F, x, x2 + c), s2);
                s3 = w.fma(FloatVector.fromArray(F, x, x3 + c), s3);
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
