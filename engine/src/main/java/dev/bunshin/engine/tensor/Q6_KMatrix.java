package dev.bunshin.engine.tensor;

import dev.bunshin.engine.gguf.GgmlType;
import dev.bunshin.engine.gguf.GgufException;
import dev.bunshin.engine.gguf.GgufTensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import static dev.bunshin.engine.tensor.Blocks.f16;
import static dev.bunshin.engine.tensor.Blocks.i8;
import static dev.bunshin.engine.tensor.Blocks.u8;
import static dev.bunshin.engine.tensor.Kernels.B;
import static dev.bunshin.engine.tensor.Kernels.F;
import static dev.bunshin.engine.tensor.Kernels.L;

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
 * <p>Fast layout: ql and qh stay in ggml order (three vector loads at {@code l} yield four runs of consecutive
 * values), copied to the heap apart from the scales, which are kept as bytes beside a float d per super-block.
 */
public final class Q6_KMatrix extends RepackedMatrix {

    private final byte[] ql;     // U4 pairs [rows, cols/2], ggml order
    private final byte[] qh;     // U2 quads [rows, cols/4], ggml order
    private final byte[] scales; // I8 [rows, cols/16]
    private final float[] d;     // F32 [rows, cols/256]

    public Q6_KMatrix(GgufTensor t) throws GgufException {
        super(t, GgmlType.Q6_K);
        int blocks = rows * (cols / 256);
        ql = new byte[blocks * 128];
        qh = new byte[blocks * 64];
        scales = new byte[blocks * 16];
        d = new float[blocks];
        for (int sb = 0; sb < blocks; sb++) {
            long p = (long) sb * 210;
            Blocks.copy(data, p, ql, sb * 128, 128);
            Blocks.copy(data, p + 128, qh, sb * 64, 64);
            Blocks.copy(data, p + 192, scales, sb * 16, 16);
            d[sb] = f16(data, p + 208);
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

    @Override
    int sumGroup() {
        return 0;
    }

    @Override
    float dot(int r, float[] x, int xo, float[] sums, int so) {
        int nsb = cols / 256;
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < nsb; b++) {
            int sb = r * nsb + b;
            FloatVector accB = FloatVector.zero(F);
            for (int h = 0; h < 2; h++) {
                int lo = sb * 128 + 64 * h;
                int ho = sb * 64 + 32 * h;
                int xh = xo + b * 256 + 128 * h;
                int sc = sb * 16 + 8 * h;
                for (int half = 0; half < 2; half++) {
                    FloatVector s1 = FloatVector.zero(F);
                    FloatVector s2 = FloatVector.zero(F);
                    FloatVector s3 = FloatVector.zero(F);
                    FloatVector s4 = FloatVector.zero(F);
                    for (int k = 16 * half; k < 16 * half + 16; k += L) {
                        ByteVector a = ByteVector.fromArray(B, ql, lo + k);
                        ByteVector c = ByteVector.fromArray(B, ql, lo + 32 + k);
                        ByteVector hb = ByteVector.fromArray(B, qh, ho + k);
                        ByteVector q1 = a.and((byte) 0x0F).or(Kernels.shl(hb, 4).and((byte) 0x30)).sub((byte) 32);
                        ByteVector q2 = c.and((byte) 0x0F).or(Kernels.shl(hb, 2).and((byte) 0x30)).sub((byte) 32);
                        ByteVector q3 = Kernels.shr(a, 4).and((byte) 0x0F).or(hb.and((byte) 0x30)).sub((byte) 32);
                        ByteVector q4 = Kernels.shr(c, 4).and((byte) 0x0F).or(Kernels.shr(hb, 2).and((byte) 0x30)).sub((byte) 32);
                        s1 = Kernels.bytesToFloats(q1).fma(FloatVector.fromArray(F, x, xh + k), s1);
                        s2 = Kernels.bytesToFloats(q2).fma(FloatVector.fromArray(F, x, xh + 32 + k), s2);
                        s3 = Kernels.bytesToFloats(q3).fma(FloatVector.fromArray(F, x, xh + 64 + k), s3);
                        s4 = Kernels.bytesToFloats(q4).fma(FloatVector.fromArray(F, x, xh + 96 + k), s4);
                    }
                    accB = s1.fma(FloatVector.broadcast(F, scales[sc + half]), accB);
                    accB = s2.fma(FloatVector.broadcast(F, scales[sc + 2 + half]), accB);
                    accB = s3.fma(FloatVector.broadcast(F, scales[sc + 4 + half]), accB);
                    accB = s4.fma(FloatVector.broadcast(F, scales[sc + 6 + half]), accB);
                }
            }
            acc = accB.fma(FloatVector.broadcast(F, d[sb]), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    @Override
    void decodeRow(int r, float[] out) {
        int nsb = cols / 256;
        for (int b = 0; b < nsb; b++) {
            int sb = r * nsb + b;
            for (int h = 0; h < 2; h++) {
                int lo = sb * 128 + 64 * h;
                int ho = sb * 64 + 32 * h;
                int oh = b * 256 + 128 * h;
                int sc = sb * 16 + 8 * h;
                for (int k = 0; k < 32; k += L) {
                    int half = k / 16;
                    ByteVector a = ByteVector.fromArray(B, ql, lo + k);
                    ByteVector c = ByteVector.fromArray(B, ql, lo + 32 + k);
                    ByteVector hb = ByteVector.fromArray(B, qh, ho + k);
                    ByteVector q1 = a.and((byte) 0x0F).or(Kernels.shl(hb, 4).and((byte) 0x30)).sub((byte) 32);
                    ByteVector q2 = c.and((byte) 0x0F).or(Kernels.shl(hb, 2).and((byte) 0x30)).sub((byte) 32);
                    ByteVector q3 = Kernels.shr(a, 4).and((byte) 0x0F).or(hb.and((byte) 0x30)).sub((byte) 32);
                    ByteVector q4 = Kernels.shr(c, 4).and((byte) 0x0F).or(Kernels.shr(hb, 2).and((byte) 0x30)).sub((byte) 32);
                    Kernels.bytesToFloats(q1).mul(d[sb] * scales[sc + half]).intoArray(out, oh + k);
                    Kernels.bytesToFloats(q2).mul(d[sb] * scales[sc + 2 + half]).intoArray(out, oh + 32 + k);
                    Kernels.bytesToFloats(q3).mul(d[sb] * scales[sc + 4 + half]).intoArray(out, oh + 64 + k);
                    Kernels.bytesToFloats(q4).mul(d[sb] * scales[sc + 6 + half]).intoArray(out, oh + 96 + k);
                }
            }
        }
    }
}
