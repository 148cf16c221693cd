package dev.bunshin.engine.tensor;

import dev.bunshin.engine.gguf.GgmlType;
import dev.bunshin.engine.gguf.GgufException;
import dev.bunshin.engine.gguf.GgufTensor;

import java.lang.foreign.MemorySegment;

import static dev.bunshin.engine.tensor.Blocks.f16;
import static dev.bunshin.engine.tensor.Blocks.u8;

/**
 * Q5_K: super-blocks of 256 values in 8 sub-blocks of 32, {@code x = d·sc·q - dmin·m} with 5-bit q and 6-bit
 * sc, m (packed as in Q4_K, see {@link Q4_KMatrix#scaleMin}).
 * <pre>
 * typedef struct {
 *     ggml_half d;          // super-block scale for the scales
 *     ggml_half dmin;       // super-block scale for the mins
 *     uint8_t scales[12];   // 8 scales and 8 mins, 6 bits each
 *     uint8_t qh[32];       // 5th bits: value 64j + l has bit 2j of qh[l], value 64j + 32 + l bit 2j+1
 *     uint8_t qs[128];      // low nibbles: qs[32j + l] low = value 64j + l, high = value 64j + 32 + l
 * } block_q5_K;             // 176 bytes
 * </pre>
 */
public final class Q5_KMatrix extends Int8GroupMatrix {

    public Q5_KMatrix(GgufTensor t) throws GgufException {
        super(t, GgmlType.Q5_K, 32, true, Q5_KMatrix::unpack);
    }

    static void unpack(MemorySegment s, long off, byte[] q, int qo, float[] scale, float[] min, int go) {
        float d = f16(s, off);
        float dmin = f16(s, off + 2);
        for (int i = 0; i < 8; i++) {
            int sm = Q4_KMatrix.scaleMin(s, off + 4, i);
            scale[go + i] = d * (sm & 0xFF);
            min[go + i] = -(dmin * (sm >>> 8));
        }
        for (int j = 0; j < 4; j++) {
            for (int l = 0; l < 32; l++) {
                int b = u8(s, off + 48 + 32 * j + l);
                int h = u8(s, off + 16 + l);
                q[qo + 64 * j + l] = (byte) ((b & 0x0F) | (((h >>> (2 * j)) & 1) << 4));
                q[qo + 64 * j + 32 + l] = (byte) ((b >>> 4) | (((h >>> (2 * j + 1)) & 1) << 4));
            }
        }
    }

    @Override
    public void dequantizeRow(int r, float[] out, int off) {
        int o = off;
        for (int b = 0; b < cols / 256; b++) {
            long p = r * rowBytes + b * 176L;
            float d = f16(data, p);
            float dmin = f16(data, p + 2);
            long ql = p + 48;
            long qh = p + 16;
            int is = 0;
            int u1 = 1;
            int u2 = 2;
            for (int j = 0; j < 256; j += 64) {
                int sm = Q4_KMatrix.scaleMin(data, p + 4, is);
                float d1 = d * (sm & 0xFF);
                float m1 = dmin * (sm >>> 8);
                sm = Q4_KMatrix.scaleMin(data, p + 4, is + 1);
                float d2 = d * (sm & 0xFF);
                float m2 = dmin * (sm >>> 8);
                for (int l = 0; l < 32; l++) {
                    out[o++] = d1 * ((u8(data, ql + l) & 0x0F) + ((u8(data, qh + l) & u1) != 0 ? 16 : 0)) - m1;
                }
                for (int l = 0; l < 32; l++) {
                    out[o++] = d2 * ((u8(data, ql + l) >>> 4) + ((u8(data, qh + l) & u2) != 0 ? 16 : 0)) - m2;
                }
                ql += 32;
                is += 2;
                u1 <<= 2;
                u2 <<= 2;
            }
        }
    }
}
