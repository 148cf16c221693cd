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

    /** Rows per group of the tiled kernel. */
    private static final int ROW_GROUP = 16;

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
        tiled(x, y, n, rowStart, rowEnd);
    }

    private FloatVector w(long at) {
        return (FloatVector) ByteVector.fromMemorySegment(B, data, at, ByteOrder.LITTLE_ENDIAN)
                .convertShape(VectorOperators.B2F, F, 0);
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
                FloatVector w = w(blk + 2 + p * L).mul(d);
                int c = b * QK + p * L;
                a0 = w.fma(FloatVector.fromArray(F, x, x0 + c), a0);
                a1 = w.fma(FloatVector.fromArray(F, x, x1 + c), a1);
                a2 = w.fma(FloatVector.fromArray(F, x, x2 + c), a2);
                a3 = w.fma(FloatVector.fromArray(F, x, x3 + c), a3);
                a4 = w.fma(FloatVector.fromArray(F, x, x4 + c), a4);
                a5 = w.fma(FloatVector.fromArray(F, x, x5 + c), a5);
                a6 = w.fma(FloatVector.fromArray(F, x, x6 + c), a6);
                a7 = w.fma(FloatVector.fromArray(F, x, x7 + c), a7);
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
                FloatVector w = w(blk + 2 + p * L).mul(d);
                int c = b * QK + p * L;
                a0 = w.fma(FloatVector.fromArray(F, x, x0 + c), a0);
                a1 = w.fma(FloatVector.fromArray(F, x, x1 + c), a1);
                a2 = w.fma(FloatVector.fromArray(F, x, x2 + c), a2);
                a3 = w.fma(FloatVector.fromArray(F, x, x3 + c), a3);
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
                FloatVector w = w(blk + 2 + p * L).mul(d);
                int c = b * QK + p * L;
                a0 = w.fma(FloatVector.fromArray(F, x, x0 + c), a0);
            }
        }
        y[(t + 0) * rows + r] = sumLanes(a0);
    }
    // END GENERATED
}
