package dev.bunshin.models.gguf;

import dev.bunshin.engine.gguf.GgmlType;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Converts F32 values into ggml block formats, for writing GGUF files (synthetic models, tests, benchmarks).
 *
 * <p>Simple and deterministic rather than optimal: per-block max-abs (or min/max) scales, and for the K-quants a
 * scale (and min) per sub-block from its range, quantized against the super-block's largest one. llama.cpp's
 * quantizers search harder for the lowest error; the formats are the same, so any reader decodes these blocks
 * exactly as it decodes llama.cpp's.
 */
public final class Quantizer {
    private Quantizer() {}

    /** The types {@link #quantize} can produce. */
    public static boolean canQuantize(GgmlType type) {
        return switch (type) {
            case F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K -> true;
            default -> false;
        };
    }

    /**
     * Quantizes {@code values} (rows of {@code cols} values, F32 [values.length / cols, cols]) into the bytes of
     * a ggml tensor of {@code type}, rows laid out one after the other.
     *
     * @throws IllegalArgumentException if the type cannot be produced, or cols is not a multiple of its block size
     */
    public static byte[] quantize(GgmlType type, float[] values, int cols) {
        if (!canQuantize(type)) {
            throw new IllegalArgumentException("cannot quantize to " + type);
        }
        if (cols <= 0 || cols % type.blockSize != 0 || values.length % cols != 0) {
            throw new IllegalArgumentException(type + ": rows of " + cols + " values (" + values.length
                    + " in all) are not whole blocks of " + type.blockSize);
        }
        long size = type.byteSize(values.length);
        if (size > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(type + ": " + values.length + " values need " + size + " bytes, too many for one array");
        }
        ByteBuffer out = ByteBuffer.allocate((int) size).order(ByteOrder.LITTLE_ENDIAN);
        int blocks = values.length / type.blockSize;
        for (int b = 0; b < blocks; b++) {
            int o = b * type.blockSize;
            switch (type) {
                case F32 -> out.putFloat(values[o]);
                case F16 -> out.putShort(Float.floatToFloat16(values[o]));
                case BF16 -> out.putShort(toBf16(values[o]));
                case Q8_0 -> q8_0(values, o, out);
                case Q4_0 -> q4_0(values, o, out);
                case Q4_1 -> q4_1(values, o, out);
                case Q5_0 -> q5_0(values, o, out);
                case Q5_1 -> q5_1(values, o, out);
                case Q2_K -> q2_K(values, o, out);
                case Q3_K -> q3_K(values, o, out);
                case Q4_K -> q4_K(values, o, out, 15);
                case Q5_K -> q4_K(values, o, out, 31);
                case Q6_K -> q6_K(values, o, out);
                default -> throw new AssertionError(type);
            }
        }
        return out.array();
    }

    /** bfloat16: the high half of the float, rounded to nearest even (NaN stays NaN). */
    static short toBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) {
            return (short) ((bits >>> 16) | 0x40);
        }
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }

    private static float half(float f) {
        return Float.float16ToFloat(Float.floatToFloat16(f));
    }

    private static int clamp(int v, int lo, int hi) {
        return Math.max(lo, Math.min(hi, v));
    }

    /** The value of largest magnitude, with its sign. */
    private static float signedMax(float[] x, int o, int n) {
        float amax = 0f;
        float max = 0f;
        for (int i = 0; i < n; i++) {
            if (Math.abs(x[o + i]) > amax) {
                amax = Math.abs(x[o + i]);
                max = x[o + i];
            }
        }
        return max;
    }

    private static void q8_0(float[] x, int o, ByteBuffer out) {
        float d = Math.abs(signedMax(x, o, 32)) / 127f;
        float id = d != 0 ? 1f / d : 0f;
        out.putShort(Float.floatToFloat16(d));
        for (int j = 0; j < 32; j++) {
            out.put((byte) clamp(Math.round(x[o + j] * id), -127, 127));
        }
    }

    private static void q4_0(float[] x, int o, ByteBuffer out) {
        float d = signedMax(x, o, 32) / -8f; // the extreme value maps to -8, the end with one more level
        float id = d != 0 ? 1f / d : 0f;
        out.putShort(Float.floatToFloat16(d));
        for (int j = 0; j < 16; j++) {
            int a = clamp(Math.round(x[o + j] * id) + 8, 0, 15);
            int b = clamp(Math.round(x[o + j + 16] * id) + 8, 0, 15);
            out.put((byte) (a | (b << 4)));
        }
    }

    private static void q5_0(float[] x, int o, ByteBuffer out) {
        float d = signedMax(x, o, 32) / -16f;
        float id = d != 0 ? 1f / d : 0f;
        out.putShort(Float.floatToFloat16(d));
        int[] q = new int[32];
        int qh = 0;
        for (int j = 0; j < 32; j++) {
            q[j] = clamp(Math.round(x[o + j] * id) + 16, 0, 31);
            qh |= (q[j] >>> 4) << j;
        }
        out.putInt(qh);
        for (int j = 0; j < 16; j++) {
            out.put((byte) ((q[j] & 0x0F) | ((q[j + 16] & 0x0F) << 4)));
        }
    }

    private static void q4_1(float[] x, int o, ByteBuffer out) {
        minMaxBlock(x, o, out, 15);
    }

    private static void q5_1(float[] x, int o, ByteBuffer out) {
        minMaxBlock(x, o, out, 31);
    }

    /** Q4_1 (levels 15) and Q5_1 (levels 31): x = d·q + m with m the block minimum. */
    private static void minMaxBlock(float[] x, int o, ByteBuffer out, int levels) {
        float min = Float.POSITIVE_INFINITY;
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < 32; j++) {
            min = Math.min(min, x[o + j]);
            max = Math.max(max, x[o + j]);
        }
        float d = (max - min) / levels;
        float id = d != 0 ? 1f / d : 0f;
        out.putShort(Float.floatToFloat16(d));
        out.putShort(Float.floatToFloat16(min));
        int[] q = new int[32];
        int qh = 0;
        for (int j = 0; j < 32; j++) {
            q[j] = clamp(Math.round((x[o + j] - min) * id), 0, levels);
            qh |= (q[j] >>> 4) << j;
        }
        if (levels == 31) {
            out.putInt(qh);
        }
        for (int j = 0; j < 16; j++) {
            out.put((byte) ((q[j] & 0x0F) | ((q[j + 16] & 0x0F) << 4)));
        }
    }

    /**
     * Per-sub-block affine ranges {@code x ≈ scale·q - min} (q in [0, levels], min ≥ 0 so that a sub-block of
     * positive values still reaches 0), returned as {scales[], mins[]}.
     */
    private static float[][] ranges(float[] x, int o, int subBlocks, int subSize, int levels) {
        float[] scales = new float[subBlocks];
        float[] mins = new float[subBlocks];
        for (int i = 0; i < subBlocks; i++) {
            float mn = 0f;
            float mx = Float.NEGATIVE_INFINITY;
            for (int l = 0; l < subSize; l++) {
                float v = x[o + i * subSize + l];
                mn = Math.min(mn, v);
                mx = Math.max(mx, v);
            }
            scales[i] = Math.max(0f, (mx - mn) / levels);
            mins[i] = -mn;
        }
        return new float[][] {scales, mins};
    }

    private static float max(float[] a) {
        float m = 0f;
        for (float v : a) {
            m = Math.max(m, v);
        }
        return m;
    }

    /** Q4_K (levels 15) and Q5_K (levels 31): 8 sub-blocks of 32, 6-bit scales and mins. */
    private static void q4_K(float[] x, int o, ByteBuffer out, int levels) {
        float[][] r = ranges(x, o, 8, 32, levels);
        float d = half(max(r[0]) / 63f);
        float dmin = half(max(r[1]) / 63f);
        int[] sc = new int[8];
        int[] m = new int[8];
        int[] q = new int[256];
        for (int i = 0; i < 8; i++) {
            sc[i] = d == 0 ? 0 : clamp(Math.round(r[0][i] / d), 0, 63);
            m[i] = dmin == 0 ? 0 : clamp(Math.round(r[1][i] / dmin), 0, 63);
            float step = d * sc[i];
            float off = dmin * m[i];
            for (int l = 0; l < 32; l++) {
                q[32 * i + l] = step == 0 ? 0 : clamp(Math.round((x[o + 32 * i + l] + off) / step), 0, levels);
            }
        }
        out.putShort(Float.floatToFloat16(d));
        out.putShort(Float.floatToFloat16(dmin));
        // The inverse of get_scale_min_k4 (see Q4_KMatrix.scaleMin).
        for (int j = 0; j < 4; j++) {
            out.put((byte) (sc[j] | ((sc[j + 4] >>> 4) << 6)));
        }
        for (int j = 0; j < 4; j++) {
            out.put((byte) (m[j] | ((m[j + 4] >>> 4) << 6)));
        }
        for (int j = 0; j < 4; j++) {
            out.put((byte) ((sc[j + 4] & 0x0F) | ((m[j + 4] & 0x0F) << 4)));
        }
        if (levels == 31) {
            for (int l = 0; l < 32; l++) {
                int h = 0;
                for (int c = 0; c < 4; c++) {
                    h |= (q[64 * c + l] >>> 4) << (2 * c);
                    h |= (q[64 * c + 32 + l] >>> 4) << (2 * c + 1);
                }
                out.put((byte) h);
            }
        }
        for (int c = 0; c < 4; c++) {
            for (int l = 0; l < 32; l++) {
                out.put((byte) ((q[64 * c + l] & 0x0F) | ((q[64 * c + 32 + l] & 0x0F) << 4)));
            }
        }
    }

    /** Q6_K: 16 sub-blocks of 16, q in [-32, 31], int8 scales. */
    private static void q6_K(float[] x, int o, ByteBuffer out) {
        float[] scales = new float[16];
        float amax = 0f;
        for (int i = 0; i < 16; i++) {
            scales[i] = signedMax(x, o + 16 * i, 16) / -32f; // the extreme value maps to -32
            amax = Math.max(amax, Math.abs(scales[i]));
        }
        float d = half(amax / 127f);
        int[] sc = new int[16];
        int[] q = new int[256];
        for (int i = 0; i < 16; i++) {
            sc[i] = d == 0 ? 0 : clamp(Math.round(scales[i] / d), -128, 127);
            float step = d * sc[i];
            for (int l = 0; l < 16; l++) {
                q[16 * i + l] = (step == 0 ? 0 : clamp(Math.round(x[o + 16 * i + l] / step), -32, 31)) + 32;
            }
        }
        for (int h = 0; h < 2; h++) {
            int b = 128 * h;
            for (int l = 0; l < 32; l++) {
                out.put((byte) ((q[b + l] & 0x0F) | ((q[b + 64 + l] & 0x0F) << 4)));
            }
            for (int l = 0; l < 32; l++) {
                out.put((byte) ((q[b + 32 + l] & 0x0F) | ((q[b + 96 + l] & 0x0F) << 4)));
            }
        }
        for (int h = 0; h < 2; h++) {
            int b = 128 * h;
            for (int l = 0; l < 32; l++) {
                out.put((byte) ((q[b + l] >>> 4) | ((q[b + 32 + l] >>> 4) << 2)
                        | ((q[b + 64 + l] >>> 4) << 4) | ((q[b + 96 + l] >>> 4) << 6)));
            }
        }
        for (int i = 0; i < 16; i++) {
            out.put((byte) sc[i]);
        }
        out.putShort(Float.floatToFloat16(d));
    }

    /** Q3_K: 16 sub-blocks of 16, q in [-4, 3], signed 6-bit scales. */
    private static void q3_K(float[] x, int o, ByteBuffer out) {
        float[] scales = new float[16];
        float amax = 0f;
        for (int i = 0; i < 16; i++) {
            scales[i] = signedMax(x, o + 16 * i, 16) / -4f; // the extreme value maps to -4
            amax = Math.max(amax, Math.abs(scales[i]));
        }
        float d = half(amax / 31f);
        int[] sc = new int[16];
        int[] q = new int[256]; // biased by 4: [0, 7]
        for (int i = 0; i < 16; i++) {
            sc[i] = d == 0 ? 0 : clamp(Math.round(scales[i] / d), -32, 31);
            float step = d * sc[i];
            for (int l = 0; l < 16; l++) {
                q[16 * i + l] = (step == 0 ? 0 : clamp(Math.round(x[o + 16 * i + l] / step), -4, 3)) + 4;
            }
        }
        byte[] hmask = new byte[32];
        byte[] qs = new byte[64];
        for (int e = 0; e < 256; e++) {
            int v = q[e];
            if (v > 3) {
                hmask[e % 32] |= (byte) (1 << (e / 32));
                v -= 4;
            }
            int h = e / 128;
            int j = (e % 128) / 32;
            qs[32 * h + e % 32] |= (byte) (v << (2 * j));
        }
        byte[] packed = new byte[12];
        for (int i = 0; i < 16; i++) {
            int s = sc[i] + 32;
            if (i < 8) {
                packed[i] |= (byte) (s & 0x0F);
            } else {
                packed[i - 8] |= (byte) ((s & 0x0F) << 4);
            }
            packed[8 + i % 4] |= (byte) ((s >>> 4) << (2 * (i / 4)));
        }
        out.put(hmask).put(qs).put(packed);
        out.putShort(Float.floatToFloat16(d));
    }

    /** Q2_K: 16 sub-blocks of 16, q in [0, 3], 4-bit scales and mins. */
    private static void q2_K(float[] x, int o, ByteBuffer out) {
        float[][] r = ranges(x, o, 16, 16, 3);
        float d = half(max(r[0]) / 15f);
        float dmin = half(max(r[1]) / 15f);
        byte[] scales = new byte[16];
        byte[] qs = new byte[64];
        for (int i = 0; i < 16; i++) {
            int sc = d == 0 ? 0 : clamp(Math.round(r[0][i] / d), 0, 15);
            int m = dmin == 0 ? 0 : clamp(Math.round(r[1][i] / dmin), 0, 15);
            scales[i] = (byte) (sc | (m << 4));
            float step = d * sc;
            float off = dmin * m;
            for (int l = 0; l < 16; l++) {
                int e = 16 * i + l;
                int v = step == 0 ? 0 : clamp(Math.round((x[o + e] + off) / step), 0, 3);
                int h = e / 128;
                int j = (e % 128) / 32;
                qs[32 * h + e % 32] |= (byte) (v << (2 * j));
            }
        }
        out.put(scales).put(qs);
        out.putShort(Float.floatToFloat16(d));
        out.putShort(Float.floatToFloat16(dmin));
    }
}
