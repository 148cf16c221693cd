package dev.bunshin.engine.tensor;

import dev.bunshin.engine.gguf.GgmlType;
import dev.bunshin.engine.gguf.GgufException;
import dev.bunshin.engine.gguf.GgufTensor;

import java.lang.foreign.MemorySegment;

import static dev.bunshin.engine.tensor.Blocks.f16;
import static dev.bunshin.engine.tensor.Blocks.u8;

/**
 * Q4_1: blocks of 32 values, {@code x = d·q + m} with 4-bit q.
 * <pre>
 * typedef struct {
 *     ggml_half d;          // delta
 *     ggml_half m;          // min
 *     uint8_t qs[16];       // nibbles: qs[j] low = value j, high = value j+16
 * } block_q4_1;             // 20 bytes
 * </pre>
 */
public final class Q4_1Matrix extends Int8GroupMatrix {

    public Q4_1Matrix(GgufTensor t) throws GgufException {
        super(t, GgmlType.Q4_1, 32, true, Q4_1Matrix::unpack);
    }

    static void unpack(MemorySegment s, long off, byte[] q, int qo, float[] scale, float[] min, int go) {
        scale[go] = f16(s, off);
        min[go] = f16(s, off + 2);
        for (int j = 0; j < 16; j++) {
            int b = u8(s, off + 4 + j);
            q[qo + j] = (byte) (b & 0x0F);
            q[qo + j + 16] = (byte) (b >>> 4);
        }
    }

    @Override
    public void dequantizeRow(int r, float[] out, int off) {
        long base = r * rowBytes;
        for (int b = 0; b < cols / 32; b++) {
            long p = base + b * 20L;
            float d = f16(data, p);
            float m = f16(data, p + 2);
            int o = off + b * 32;
            for (int j = 0; j < 16; j++) {
                int qs = u8(data, p + 4 + j);
                out[o + j] = (qs & 0x0F) * d + m;
                out[o + j + 16] = (qs >>> 4) * d + m;
            }
        }
    }
}
