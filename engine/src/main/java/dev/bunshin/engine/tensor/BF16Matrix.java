package dev.bunshin.engine.tensor;

import dev.bunshin.engine.gguf.GgufTensor;

import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** bfloat16 weights: the top 16 bits of an F32. Decoded per row, then dotted with every activation row. */
final class BF16Matrix extends MappedMatrix {
    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    BF16Matrix(GgufTensor t) {
        super(t);
    }

    @Override
    public void dequantizeRow(int r, float[] out, int off) {
        long base = (long) r * cols * 2;
        for (int c = 0; c < cols; c++) {
            out[off + c] = Float.intBitsToFloat((data.get(LE_SHORT, base + 2L * c) & 0xFFFF) << 16);
        }
    }

    @Override
    public void matmul(float[] x, float[] y, int n, int rowStart, int rowEnd) {
        decodedMatmul(x, y, n, rowStart, rowEnd);
    }
}
