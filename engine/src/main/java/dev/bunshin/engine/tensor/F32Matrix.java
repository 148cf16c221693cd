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

    // Both paths do the same operations per (row, token), so a token's result does not depend on the batch.
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
            s0 += data.get(LE_FLOAT, base + 4L * c) * x[x0 + c];
        }
        y[t * rows + r] = s0;
    }

    private void row4(int r, float[] x, float[] y, int t) {
        long base = (long) r * cols * 4;
        int x0 = t * cols, x1 = x0 + cols, x2 = x1 + cols, x3 = x2 + cols;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        int upper = F.loopBound(cols);
        int c = 0;
        for (; c < upper; c += L) {
            FloatVector w = FloatVector.fromMemorySegment(F, data, base + 4L * c, ByteOrder.LITTLE_ENDIAN);
            a0 = w.fma(FloatVector.fromArray(F, x, x0 + c), a0);
            a1 = w.fma(FloatVector.fromArray(F, x, x1 + c), a1);
            a2 = w.fma(FloatVector.fromArray(F, x, x2 + c), a2);
            a3 = w.fma(FloatVector.fromArray(F, x, x3 + c), a3);
        }
        float s0 = sumLanes(a0), s1 = sumLanes(a1), s2 = sumLanes(a2), s3 = sumLanes(a3);
        for (; c < cols; c++) {
            float w = data.get(LE_FLOAT, base + 4L * c);
            s0 += w * x[x0 + c];
            s1 += w * x[x1 + c];
            s2 += w * x[x2 + c];
            s3 += w * x[x3 + c];
        }
        y[t * rows + r] = s0;
        y[(t + 1) * rows + r] = s1;
        y[(t + 2) * rows + r] = s2;
        y[(t + 3) * rows + r] = s3;
    }
}
