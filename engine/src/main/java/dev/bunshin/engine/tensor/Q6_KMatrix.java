package dev.bunshin.engine.tensor;

import dev.bunshin.engine.gguf.GgmlType;
import dev.bunshin.engine.gguf.GgufException;
import dev.bunshin.engine.gguf.GgufTensor;

import java.lang.foreign.MemorySegment;

import static dev.bunshin.engine.tensor.Blocks.f16;
import static dev.bunshin.engine.tensor.Blocks.i8;
import static dev.bunshin.engine.tensor.Blocks.u8;

/**
 * Q6_K: super-blocks of 256 values in 16 sub-blocks of 16, {@code x = d·sc·(q - 32)} with 6-bit q and int8 sc.
 * <pre>
 * typedef struct {
 *     uint8_t ql[128];      // low 4 bits; per 128-value half h (ql += 64h, qh += 32h), for l in 0..31:
 *     uint8_t qh[64];       //   value l      = ql[l] low    | (qh[l] >> 0 & 3) << 4
 *                           //   value l + 32 = ql[l+32] low | (qh[l] >> 2 & 3) << 4
 *                           //   value l + 64 = ql[l] high   | (qh[l] >> 4 & 3) << 4
 *                           //   value l + 96 = ql[l+32] high| (qh[l] >> 6 & 3) << 4
 *     int8_t scales[16];    // one per 16 values
 *     ggml_half d;          // super-block scale
 * } block_q6_K;             // 210 bytes
 * </pre>
 *
 * <p>Fast layout: unpacked at load time into one signed byte per value (q - 32) and a float scale {@code d·sc}
 * per 16 values ({@link Int8GroupMatrix}). A kernel on the packed ql/qh bits needs four shift-and-mask steps
 * per value and measured 3–4× slower than this byte layout, which costs 1.25 instead of 0.82 bytes per weight
 * of memory traffic: decode on two cores is bound by compute, not by memory bandwidth.
 */
public final class Q6_KMatrix extends Int8GroupMatrix {

    public Q6_KMatrix(GgufTensor t) throws GgufException {
        super(t, GgmlType.Q6_K, 16, false, Q6_KMatrix::unpack);
    }

    static void unpack(MemorySegment s, long off, byte[] q, int qo, float[] scale, float[] min, int go) {
        float d = f16(s, off + 208);
        for (int i = 0; i < 16; i++) {
            scale[go + i] = d * i8(s, off + 192 + i);
        }
        for (int h = 0; h < 2; h++) {
            long lp = off + 64 * h;
            long hp = off + 128 + 32 * h;
            int o = qo + 128 * h;
            for (int l = 0; l < 32; l++) {
                int hb = u8(s, hp + l);
                q[o + l] = (byte) (((u8(s, lp + l) & 0x0F) | ((hb & 3) << 4)) - 32);
                q[o + l + 32] = (byte) (((u8(s, lp + l + 32) & 0x0F) | (((hb >>> 2) & 3) << 4)) - 32);
                q[o + l + 64] = (byte) (((u8(s, lp + l) >>> 4) | (((hb >>> 4) & 3) << 4)) - 32);
                q[o + l + 96] = (byte) (((u8(s, lp + l + 32) >>> 4) | (((hb >>> 6) & 3) << 4)) - 32);
            }
        }
    }

    @Override
    public void dequantizeRow(int r, float[] out, int off) {
        for (int b = 0; b < cols / 256; b++) {
            long p = r * rowBytes + b * 210L;
            float dd = f16(data, p + 208);
            long lp = p;
            long hp = p + 128;
            long sp = p + 192;
            int o = off + b * 256;
            for (int n = 0; n < 256; n += 128) {
                for (int l = 0; l < 32; l++) {
                    int is = l / 16;
                    int h = u8(data, hp + l);
                    int q1 = ((u8(data, lp + l) & 0x0F) | ((h & 3) << 4)) - 32;
                    int q2 = ((u8(data, lp + l + 32) & 0x0F) | (((h >>> 2) & 3) << 4)) - 32;
                    int q3 = ((u8(data, lp + l) >>> 4) | (((h >>> 4) & 3) << 4)) - 32;
                    int q4 = ((u8(data, lp + l + 32) >>> 4) | (((h >>> 6) & 3) << 4)) - 32;
                    out[o + l] = dd * i8(data, sp + is) * q1;
                    out[o + l + 32] = dd * i8(data, sp + is + 2) * q2;
                    out[o + l + 64] = dd * i8(data, sp + is + 4) * q3;
                    out[o + l + 96] = dd * i8(data, sp + is + 6) * q4;
                }
                o += 128;
                lp += 64;
                hp += 32;
                sp += 8;
            }
        }
    }
}
