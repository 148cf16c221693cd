package dev.bunshin.engine.tensor;

import dev.bunshin.engine.gguf.GgufTensor;
import jdk.incubator.vector.FloatVector;

import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import static dev.bunshin.engine.tensor.VectorMath.F;
import static dev.bunshin.engine.tensor.VectorMath.L;
import static dev.bunshin.engine.tensor.VectorMath.sumLanes;

/** F32 weights: 4 bytes per value, little-endian. */
final class F32Matrix extends MappedMatrix {
    private static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    F32Matrix(GgufTensor t) {
        super(t);
    }

    /** Rows per group of the tiled kernel. */
    private static final int ROW_GROUP = 16;
    /** Token tile: 8 accumulators fit the registers of AVX2 and AVX-512. */
    private static final int MAX_TILE = 8;

    @Override
    public void dequantizeRow(int r, float[] out, int off) {
        long base = (long) r * cols * 4;
        for (int c = 0; c < cols; c++) {
            out[off + c] = data.get(LE_FLOAT, base + 4L * c);
        }
    }

    @Override
    public void matmul(float[] x, float[] y, int n, int rowStart, int rowEnd) {
        if (!VectorMath.VECTOR) {
            decodedMatmul(x, y, n, rowStart, rowEnd);
            return;
        }
        tiled(x, y, n, rowStart, rowEnd);
    }

    // Every tile size does the same operations per (row, token), so a token's result does not depend on the
    // batch it came in.
    // BEGIN GENERATED (tools/gen_kernels.py)
    /** Rows in groups small enough to stay in L1/L2 while every token tile passes over them. */
    private void tiled(float[] x, float[] y, int n, int rowStart, int rowEnd) {
        for (int g = rowStart; g < rowEnd; g += ROW_GROUP) {
            int gEnd = Math.min(rowEnd, g + ROW_GROUP);
            int t = 0;
            for (; t + 8 <= n && MAX_TILE >= 8; t += 8) {
                for (int r = g; r < gEnd; r++) row8(r, x, y, t);
            }
            for (; t + 4 <= n; t += 4) {
                for (int r = g; r < gEnd; r++) row4(r, x, y, t);
            }
            for (; t + 2 <= n; t += 2) {
                for (int r = g; r < gEnd; r++) row2(r, x, y, t);
            }
            for (; t + 1 <= n; t += 1) {
                for (int r = g; r < gEnd; r++) row1(r, x, y, t);
            }
        }
    }

    private void row8(int r, float[] x, float[] y, int t) {
        long base = (long) r * cols * 4;
        int x0 = t * cols, x1 = x0 + cols, x2 = x1 + cols, x3 = x2 + cols, x4 = x3 + cols, x5 = x4 + cols, x6 = x5 + cols, x7 = x6 + cols;
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F), a4 = FloatVector.zero(F), a5 = FloatVector.zero(F), a6 = FloatVector.zero(F), a7 = FloatVector.zero(F);
        int upper = F.loopBound(cols);
        int c = 0;
        for (; c < upper; c += L) {
            FloatVector w = FloatVector.fromMemorySegment(F, data, base + 4L * c, ByteOrder.LITTLE_ENDIAN);
            a0 = w.fma(FloatVector.fromArray(F, x, x0 + c), a0);
            a1 = w.fma(FloatVector.fromArray(F, x, x1 + c), a1);
            a2 = w.fma(FloatVector.fromArray(F, x, x2 + c), a2);
            a3 = w.fma(FloatVector.fromArray(F, x, x3 + c), a3);
            a4 = w.fma(FloatVector.fromArray(F, x, x4 + c), a4);
            a5 = w.fma(FloatVector.fromArray(F, x, x5 + c), a5);
            a6 = w.fma(FloatVector.fromArray(F, x, x6 + c), a6);
            a7 = w.fma(FloatVector.fromArray(F, x, x7 + c), a7);
        }
        float s0 = sumLanes(a0);
        float s1 = sumLanes(a1);
        float s2 = sumLanes(a2);
        float s3 = sumLanes(a3);
        float s4 = sumLanes(a4);
        float s5 = sumLanes(a5);
        float s6 = sumLanes(a6);
        float s7 = sumLanes(a7);
        for (; c < cols; c++) {
            float w = data.get(LE_FLOAT, base + 4L * c);
            s0 += w * x[x0 + c];
            s1 += w * x[x1 + c];
            s2 += w * x[x2 + c];
            s3 += w * x[x3 + c];
            s4 += w * x[x4 + c];
            s5 += w * x[x5 + c];
            s6 += w * x[x6 + c];
            s7 += w * x[x7 + c];
        }
        y[(t + 0) * rows + r] = s0;
        y[(t + 1) * rows + r] = s1;
        y[(t + 2) * rows + r] = s2;
        y[(t + 3) * rows + r] = s3;
        y[(t + 4) * rows + r] = s4;
        y[(t + 5) * rows + r] = s5;
        y[(t + 6) * rows + r] = s6;
        y[(t + 7) * rows + r] = s7;
    }

    private void row4(int r, float[] x, float[] y, int t) {
        long base = (long) r * cols * 4;
        int x0 = t * cols, x1 = x0 + cols, x2 = x1 + cols, x3 = x2 + cols;
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        int upper = F.loopBound(cols);
        int c = 0;
        for (; c < upper; c += L) {
            FloatVector w = FloatVector.fromMemorySegment(F, data, base + 4L * c, ByteOrder.LITTLE_ENDIAN);
            a0 = w.fma(FloatVector.fromArray(F, x, x0 + c), a0);
            a1 = w.fma(FloatVector.fromArray(F, x, x1 + c), a1);
            a2 = w.fma(FloatVector.fromArray(F, x, x2 + c), a2);
            a3 = w.fma(FloatVector.fromArray(F, x, x3 + c), a3);
        }
        float s0 = sumLanes(a0);
        float s1 = sumLanes(a1);
        float s2 = sumLanes(a2);
        float s3 = sumLanes(a3);
        for (; c < cols; c++) {
            float w = data.get(LE_FLOAT, base + 4L * c);
            s0 += w * x[x0 + c];
            s1 += w * x[x1 + c];
            s2 += w * x[x2 + c];
            s3 += w * x[x3 + c];
        }
        y[(t + 0) * rows + r] = s0;
        y[(t + 1) * rows + r] = s1;
        y[(t + 2) * rows + r] = s2;
        y[(t + 3) * rows + r] = s3;
    }

    private void row2(int r, float[] x, float[] y, int t) {
        long base = (long) r * cols * 4;
        int x0 = t * cols, x1 = x0 + cols;
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F);
        int upper = F.loopBound(cols);
        int c = 0;
        for (; c < upper; c += L) {
            FloatVector w = FloatVector.fromMemorySegment(F, data, base + 4L * c, ByteOrder.LITTLE_ENDIAN);
            a0 = w.fma(FloatVector.fromArray(F, x, x0 + c), a0);
            a1 = w.fma(FloatVector.fromArray(F, x, x1 + c), a1);
        }
        float s0 = sumLanes(a0);
        float s1 = sumLanes(a1);
        for (; c < cols; c++) {
            float w = data.get(LE_FLOAT, base + 4L * c);
            s0 += w * x[x0 + c];
            s1 += w * x[x1 + c];
        }
        y[(t + 0) * rows + r] = s0;
        y[(t + 1) * rows + r] = s1;
    }

    private void row1(int r, float[] x, float[] y, int t) {
        long base = (long) r * cols * 4;
        int x0 = t * cols;
        FloatVector a0 = FloatVector.zero(F);
        int upper = F.loopBound(cols);
        int c = 0;
        for (; c < upper; c += L) {
            FloatVector w = FloatVector.fromMemorySegment(F, data, base + 4L * c, ByteOrder.LITTLE_ENDIAN);
            a0 = w.fma(FloatVector.fromArray(F, x, x0 + c), a0);
        }
        float s0 = sumLanes(a0);
        for (; c < cols; c++) {
            float w = data.get(LE_FLOAT, base + 4L * c);
            s0 += w * x[x0 + c];
        }
        y[(t + 0) * rows + r] = s0;
    }
    // END GENERATED
}
