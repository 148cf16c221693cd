package dev.bunshin.engine.tensor;

import dev.bunshin.engine.gguf.GgufTensor;

import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * IEEE half-precision weights. Not a hot path of the supported models (norms and small tensors at most), so the
 * kernel decodes each row once and dots it with every activation row.
 */
final class F16Matrix extends MappedMatrix {
    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    F16Matrix(GgufTensor t) {
        super(t);
    }

    @Override
    public void dequantizeRow(int r, float[] out, int off) {
        long base = (long) r * cols * 2;
        for (int c = 0; c < cols; c++) {
            out[off + c] = Float.float16ToFloat(data.get(LE_SHORT, base + 2L * c));
        }
    }

    @Override
    public void matmul(float[] x, float[] y, int n, int rowStart, int rowEnd) {
        decodedMatmul(x, y, n, rowStart, rowEnd);
    }
}
