package dev.bunshin.engine.tensor;

import dev.bunshin.engine.gguf.GgmlType;
import dev.bunshin.engine.gguf.GgufException;
import dev.bunshin.engine.gguf.GgufTensor;

import java.lang.foreign.MemorySegment;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import static dev.bunshin.engine.tensor.Blocks.f16;
import static dev.bunshin.engine.tensor.Blocks.u8;
import static dev.bunshin.engine.tensor.Kernels.B;
import static dev.bunshin.engine.tensor.Kernels.F;
import static dev.bunshin.engine.tensor.Kernels.L;

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
 * <p>Fast layout: the nibbles stay as they are (a vector load of {@code qs[32j + l ..]} gives consecutive values
 * of two sub-blocks, low and high nibbles), copied to the heap; the 6-bit scales and mins are unpacked into bytes
 * and d, dmin into floats, so the inner loop never touches the packed scale bits. The mins are applied once per
 * sub-block against the sums of the activations ({@code Σ_g dmin·m_g·Σx_g}).
 */
public final class Q4_KMatrix extends RepackedMatrix {

    private final byte[] qs;     // U4 pairs [rows, cols/2], ggml order
    private final byte[] scales; // U6 [rows, cols/32]
    private final byte[] mins;   // U6 [rows, cols/32]
    private final float[] d;     // F32 [rows, cols/256]
    private final float[] dmin;  // F32 [rows, cols/256]

    public Q4_KMatrix(GgufTensor t) throws GgufException {
        super(t, GgmlType.Q4_K);
        int blocks = rows * (cols / 256);
        qs = new byte[blocks * 128];
        scales = new byte[blocks * 8];
        mins = new byte[blocks * 8];
        d = new float[blocks];
        dmin = new float[blocks];
        for (int sb = 0; sb < blocks; sb++) {
            long p = (long) sb * 144; // rows hold whole blocks, so blocks are contiguous across rows
            d[sb] = f16(data, p);
            dmin[sb] = f16(data, p + 2);
            for (int g = 0; g < 8; g++) {
                int sm = scaleMin(data, p + 4, g);
                scales[sb * 8 + g] = (byte) (sm & 0xFF);
                mins[sb * 8 + g] = (byte) (sm >>> 8);
            }
            Blocks.copy(data, p + 16, qs, sb * 128, 128);
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

    @Override
    int sumGroup() {
        return 32;
    }

    @Override
    float dot(int r, float[] x, int xo, float[] sums, int so) {
        int nsb = cols / 256;
        FloatVector acc = FloatVector.zero(F);
        float minSum = 0f;
        for (int b = 0; b < nsb; b++) {
            int sb = r * nsb + b;
            int qo = sb * 128;
            int go = sb * 8;
            int xb = xo + b * 256;
            FloatVector accB = FloatVector.zero(F);
            for (int j = 0; j < 4; j++) {
                FloatVector s0 = FloatVector.zero(F);
                FloatVector s1 = FloatVector.zero(F);
                for (int k = 0; k < 32; k += L) {
                    ByteVector v = ByteVector.fromArray(B, qs, qo + 32 * j + k);
                    FloatVector lo = Kernels.bytesToFloats(v.and((byte) 0x0F));
                    FloatVector hi = Kernels.bytesToFloats(Kernels.shr(v, 4).and((byte) 0x0F));
                    s0 = lo.fma(FloatVector.fromArray(F, x, xb + 64 * j + k), s0);
                    s1 = hi.fma(FloatVector.fromArray(F, x, xb + 64 * j + 32 + k), s1);
                }
                accB = s0.fma(FloatVector.broadcast(F, scales[go + 2 * j]), accB);
                accB = s1.fma(FloatVector.broadcast(F, scales[go + 2 * j + 1]), accB);
            }
            acc = accB.fma(FloatVector.broadcast(F, d[sb]), acc);
            float ms = 0f;
            int sg = so + b * 8;
            for (int g = 0; g < 8; g++) {
                ms += mins[go + g] * sums[sg + g];
            }
            minSum += dmin[sb] * ms;
        }
        return acc.reduceLanes(VectorOperators.ADD) - minSum;
    }

    @Override
    void decodeRow(int r, float[] out) {
        int nsb = cols / 256;
        for (int b = 0; b < nsb; b++) {
            int sb = r * nsb + b;
            int qo = sb * 128;
            int go = sb * 8;
            for (int j = 0; j < 4; j++) {
                FloatVector sc0 = FloatVector.broadcast(F, d[sb] * scales[go + 2 * j]);
                FloatVector sc1 = FloatVector.broadcast(F, d[sb] * scales[go + 2 * j + 1]);
                FloatVector m0 = FloatVector.broadcast(F, -(dmin[sb] * mins[go + 2 * j]));
                FloatVector m1 = FloatVector.broadcast(F, -(dmin[sb] * mins[go + 2 * j + 1]));
                for (int k = 0; k < 32; k += L) {
                    ByteVector v = ByteVector.fromArray(B, qs, qo + 32 * j + k);
                    Kernels.bytesToFloats(v.and((byte) 0x0F)).fma(sc0, m0).intoArray(out, b * 256 + 64 * j + k);
                    Kernels.bytesToFloats(Kernels.shr(v, 4).and((byte) 0x0F)).fma(sc1, m1)
                            .intoArray(out, b * 256 + 64 * j + 32 + k);
                }
            }
        }
    }
}
