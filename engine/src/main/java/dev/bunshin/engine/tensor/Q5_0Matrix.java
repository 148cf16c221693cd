package dev.bunshin.engine.tensor;

import dev.bunshin.engine.gguf.GgmlType;
import dev.bunshin.engine.gguf.GgufException;
import dev.bunshin.engine.gguf.GgufTensor;

import java.lang.foreign.MemorySegment;

import static dev.bunshin.engine.tensor.Blocks.f16;
import static dev.bunshin.engine.tensor.Blocks.u32;
import static dev.bunshin.engine.tensor.Blocks.u8;

/**
 * Q5_0: blocks of 32 values, {@code x = d·(q - 16)} with 5-bit q.
 * <pre>
 * typedef struct {
 *     ggml_half d;          // delta
 *     uint8_t qh[4];        // 5th bits, little-endian uint32: bit j belongs to value j
 *     uint8_t qs[16];       // low nibbles: qs[j] low = value j, high = value j+16
 * } block_q5_0;             // 22 bytes
 * </pre>
 */
public final class Q5_0Matrix extends Int8GroupMatrix {

    public Q5_0Matrix(GgufTensor t) throws GgufException {
        super(t, GgmlType.Q5_0, 32, false, Q5_0Matrix::unpack);
    }

    static void unpack(MemorySegment s, long off, byte[] q, int qo, float[] scale, float[] min, int go) {
        scale[go] = f16(s, off);
        int qh = u32(s, off + 2);
        for (int j = 0; j < 16; j++) {
            int b = u8(s, off + 6 + j);
            q[qo + j] = (byte) (((b & 0x0F) | (((qh >>> j) & 1) << 4)) - 16);
            q[qo + j + 16] = (byte) (((b >>> 4) | (((qh >>> (j + 16)) & 1) << 4)) - 16);
        }
    }

    @Override
    public void dequantizeRow(int r, float[] out, int off) {
        long base = r * rowBytes;
        for (int b = 0; b < cols / 32; b++) {
            long p = base + b * 22L;
            float d = f16(data, p);
            int qh = u32(data, p + 2);
            int o = off + b * 32;
            for (int j = 0; j < 16; j++) {
                int qs = u8(data, p + 6 + j);
                int x0 = ((qs & 0x0F) | (((qh >>> j) & 1) << 4)) - 16;
                int x1 = ((qs >>> 4) | (((qh >>> (j + 16)) & 1) << 4)) - 16;
                out[o + j] = x0 * d;
                out[o + j + 16] = x1 * d;
            }
        }
    }
}
