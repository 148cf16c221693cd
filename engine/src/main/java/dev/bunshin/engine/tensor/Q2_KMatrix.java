package dev.bunshin.engine.tensor;

import dev.bunshin.engine.gguf.GgmlType;
import dev.bunshin.engine.gguf.GgufException;
import dev.bunshin.engine.gguf.GgufTensor;

import java.lang.foreign.MemorySegment;

import static dev.bunshin.engine.tensor.Blocks.f16;
import static dev.bunshin.engine.tensor.Blocks.u8;

/**
 * Q2_K: super-blocks of 256 values in 16 sub-blocks of 16, {@code x = d·sc·q - dmin·m} with 2-bit q and 4-bit
 * sc, m per sub-block.
 * <pre>
 * typedef struct {
 *     uint8_t scales[16];   // sub-block i: scale = scales[i] & 0xF, min = scales[i] >> 4
 *     uint8_t qs[64];       // 2-bit quants: value 128h + 32j + l is (qs[32h + l] >> 2j) & 3
 *     ggml_half d;          // super-block scale for the scales
 *     ggml_half dmin;       // super-block scale for the mins
 * } block_q2_K;             // 84 bytes
 * </pre>
 */
public final class Q2_KMatrix extends Int8GroupMatrix {

    public Q2_KMatrix(GgufTensor t) throws GgufException {
        super(t, GgmlType.Q2_K, 16, true, Q2_KMatrix::unpack);
    }

    static void unpack(MemorySegment s, long off, byte[] q, int qo, float[] scale, float[] min, int go) {
        float d = f16(s, off + 80);
        float dmin = f16(s, off + 82);
        for (int i = 0; i < 16; i++) {
            int sc = u8(s, off + i);
            scale[go + i] = d * (sc & 0x0F);
            min[go + i] = -(dmin * (sc >>> 4));
        }
        for (int e = 0; e < 256; e++) {
            int h = e / 128;
            int j = (e % 128) / 32;
            int l = e % 32;
            q[qo + e] = (byte) ((u8(s, off + 16 + 32 * h + l) >>> (2 * j)) & 3);
        }
    }

    @Override
    public void dequantizeRow(int r, float[] out, int off) {
        int o = off;
        for (int b = 0; b < cols / 256; b++) {
            long p = r * rowBytes + b * 84L;
            float d = f16(data, p + 80);
            float dmin = f16(data, p + 82);
            long qp = p + 16;
            int is = 0;
            for (int n = 0; n < 256; n += 128) {
                int shift = 0;
                for (int j = 0; j < 4; j++) {
                    int sc = u8(data, p + is++);
                    float dl = d * (sc & 0x0F);
                    float ml = dmin * (sc >>> 4);
                    for (int l = 0; l < 16; l++) {
                        out[o++] = dl * ((u8(data, qp + l) >>> shift) & 3) - ml;
                    }
                    sc = u8(data, p + is++);
                    dl = d * (sc & 0x0F);
                    ml = dmin * (sc >>> 4);
                    for (int l = 0; l < 16; l++) {
                        out[o++] = dl * ((u8(data, qp + 16 + l) >>> shift) & 3) - ml;
                    }
                    shift += 2;
                }
                qp += 32;
            }
        }
    }
}
