package dev.bunshin.engine.tensor;

import dev.bunshin.engine.gguf.GgmlType;
import dev.bunshin.engine.gguf.GgufException;
import dev.bunshin.engine.gguf.GgufTensor;

import java.lang.foreign.MemorySegment;

import static dev.bunshin.engine.tensor.Blocks.f16;
import static dev.bunshin.engine.tensor.Blocks.u8;

/**
 * Q3_K: super-blocks of 256 values in 16 sub-blocks of 16, {@code x = d·(sc - 32)·q} with q in [-4, 3] and
 * 6-bit sc.
 * <pre>
 * typedef struct {
 *     uint8_t hmask[32];    // high bit of value e: (hmask[e % 32] >> (e / 32)) & 1; q = low2 - (high ? 0 : 4)
 *     uint8_t qs[64];       // low 2 bits: value 128h + 32j + l is (qs[32h + l] >> 2j) & 3
 *     uint8_t scales[12];   // 16 6-bit scales: low 4 bits in bytes 0..7 (sub-blocks 8..15 in the high nibbles),
 *                           // high 2 bits of sub-block i in byte 8 + i % 4 at bit 2·(i / 4)
 *     ggml_half d;          // super-block scale
 * } block_q3_K;             // 110 bytes
 * </pre>
 */
public final class Q3_KMatrix extends Int8GroupMatrix {

    public Q3_KMatrix(GgufTensor t) throws GgufException {
        super(t, GgmlType.Q3_K, 16, false, Q3_KMatrix::unpack);
    }

    /** The 6-bit scale of sub-block i (0..15), still biased by 32. */
    static int scale6(MemorySegment s, long scales, int i) {
        int low = i < 8 ? u8(s, scales + i) & 0x0F : u8(s, scales + i - 8) >>> 4;
        int high = (u8(s, scales + 8 + i % 4) >>> (2 * (i / 4))) & 3;
        return low | (high << 4);
    }

    static void unpack(MemorySegment s, long off, byte[] q, int qo, float[] scale, float[] min, int go) {
        float d = f16(s, off + 108);
        for (int i = 0; i < 16; i++) {
            scale[go + i] = d * (scale6(s, off + 96, i) - 32);
        }
        for (int e = 0; e < 256; e++) {
            int h = e / 128;
            int j = (e % 128) / 32;
            int l = e % 32;
            int low = (u8(s, off + 32 + 32 * h + l) >>> (2 * j)) & 3;
            int high = (u8(s, off + l) >>> (e / 32)) & 1;
            q[qo + e] = (byte) (low - (high != 0 ? 0 : 4));
        }
    }

    @Override
    public void dequantizeRow(int r, float[] out, int off) {
        int o = off;
        int[] scales = new int[16];
        for (int b = 0; b < cols / 256; b++) {
            long p = r * rowBytes + b * 110L;
            float dAll = f16(data, p + 108);
            // Unpack the 12 scale bytes as ggml does: four little-endian words, the third holding the high bits.
            int a0 = Blocks.u32(data, p + 96);
            int a1 = Blocks.u32(data, p + 100);
            int tmp = Blocks.u32(data, p + 104);
            int[] aux = {
                    (a0 & 0x0F0F0F0F) | (((tmp) & 0x03030303) << 4),
                    (a1 & 0x0F0F0F0F) | (((tmp >>> 2) & 0x03030303) << 4),
                    ((a0 >>> 4) & 0x0F0F0F0F) | (((tmp >>> 4) & 0x03030303) << 4),
                    ((a1 >>> 4) & 0x0F0F0F0F) | (((tmp >>> 6) & 0x03030303) << 4)};
            for (int i = 0; i < 16; i++) {
                scales[i] = (byte) (aux[i / 4] >>> (8 * (i % 4)));
            }
            long qp = p + 32;
            int m = 1;
            int is = 0;
            for (int n = 0; n < 256; n += 128) {
                int shift = 0;
                for (int j = 0; j < 4; j++) {
                    float dl = dAll * (scales[is++] - 32);
                    for (int l = 0; l < 16; l++) {
                        int qv = ((u8(data, qp + l) >>> shift) & 3) - ((u8(data, p + l) & m) != 0 ? 0 : 4);
                        out[o++] = dl * qv;
                    }
                    dl = dAll * (scales[is++] - 32);
                    for (int l = 0; l < 16; l++) {
                        int qv = ((u8(data, qp + 16 + l) >>> shift) & 3) - ((u8(data, p + 16 + l) & m) != 0 ? 0 : 4);
                        out[o++] = dl * qv;
                    }
                    shift += 2;
                    m <<= 1;
                }
                qp += 32;
            }
        }
    }
}
