package dev.bunshin.engine.tensor;

import dev.bunshin.engine.gguf.GgmlType;
import dev.bunshin.engine.gguf.GgufException;
import dev.bunshin.engine.gguf.GgufTensor;

import java.lang.foreign.MemorySegment;


import static dev.bunshin.engine.tensor.Blocks.f16;
import static dev.bunshin.engine.tensor.Blocks.u8;

/**
 * Q4_K: super-blocks of 256 values in 8 sub-blocks of 32, {@code x = d·sc·q - dmin·m} with 4-bit q and 6-bit
 * sc, m per sub-block.
 * <pre>
 * typedef struct {
 *     ggml_half d;          // super-block scale for the scales
 *     ggml_half dmin;       // super-block scale for the mins
 *     uint8_t scales[12];   // 8 scales and 8 mins, 6 bits each (see scaleMin)
 *     uint8_t qs[128];      // qs[32j + l] low nibble = value 64j + l, high nibble = value 64j + 32 + l
 * } block_q4_K;             // 144 bytes
 * </pre>
 *
 * <p>Fast layout: unpacked at load time into one byte per value and float scales {@code d·sc} and mins
 * {@code -dmin·m} per 32 values ({@link Int8GroupMatrix}); the mins are applied once per sub-block against the
 * sums of the activations. A kernel on the nibbles (mask, shift, convert) measured about 1.5× slower than this
 * byte layout, which costs 1.25 instead of 0.56 bytes per weight of memory traffic (decode on two cores is
 * bound by compute, not by memory bandwidth) and 2.2× the file's size in heap.
 */
public final class Q4_KMatrix extends Int8GroupMatrix {

    public Q4_KMatrix(GgufTensor t) throws GgufException {
        super(t, GgmlType.Q4_K, 32, true, Q4_KMatrix::unpack);
    }

    static void unpack(MemorySegment s, long off, byte[] q, int qo, float[] scale, float[] min, int go) {
        float d = f16(s, off);
        float dmin = f16(s, off + 2);
        for (int i = 0; i < 8; i++) {
            int sm = scaleMin(s, off + 4, i);
            scale[go + i] = d * (sm & 0xFF);
            min[go + i] = -(dmin * (sm >>> 8));
        }
        for (int j = 0; j < 4; j++) {
            for (int l = 0; l < 32; l++) {
                int b = u8(s, off + 16 + 32 * j + l);
                q[qo + 64 * j + l] = (byte) (b & 0x0F);
                q[qo + 64 * j + 32 + l] = (byte) (b >>> 4);
            }
        }
    }

    /**
     * ggml's {@code get_scale_min_k4}: scale and min of sub-block j (0..7) from the 12 packed bytes at
     * {@code off}, as {@code scale | min << 8}. Sub-blocks 0..3 use the low 6 bits of bytes j and j+4; 4..7 take
     * their low 4 bits from the nibbles of byte j+4 and their high 2 bits from the top of bytes j-4 and j.
     */
    static int scaleMin(MemorySegment s, long off, int j) {
        int sc;
        int m;
        if (j < 4) {
            sc = u8(s, off + j) & 63;
            m = u8(s, off + j + 4) & 63;
        } else {
            sc = (u8(s, off + j + 4) & 0x0F) | ((u8(s, off + j - 4) >>> 6) << 4);
            m = (u8(s, off + j + 4) >>> 4) | ((u8(s, off + j) >>> 6) << 4);
        }
        return sc | (m << 8);
    }

    @Override
    public void dequantizeRow(int r, float[] out, int off) {
        int o = off;
        for (int b = 0; b < cols / 256; b++) {
            long p = r * rowBytes + b * 144L;
            float dd = f16(data, p);
            float mm = f16(data, p + 2);
            long q = p + 16;
            int is = 0;
            for (int j = 0; j < 256; j += 64) {
                int sm = scaleMin(data, p + 4, is);
                float d1 = dd * (sm & 0xFF);
                float m1 = mm * (sm >>> 8);
                sm = scaleMin(data, p + 4, is + 1);
                float d2 = dd * (sm & 0xFF);
                float m2 = mm * (sm >>> 8);
                for (int l = 0; l < 32; l++) {
                    out[o++] = d1 * (u8(data, q + l) & 0x0F) - m1;
                }
                for (int l = 0; l < 32; l++) {
                    out[o++] = d2 * (u8(data, q + l) >>> 4) - m2;
                }
                q += 32;
                is += 2;
            }
        }
    }
}
