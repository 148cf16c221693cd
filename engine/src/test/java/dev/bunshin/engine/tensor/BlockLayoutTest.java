package dev.bunshin.engine.tensor;

import dev.bunshin.engine.gguf.GgmlType;
import dev.bunshin.engine.gguf.GgufTensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Hand-built single blocks whose values follow from ggml's block structs (ggml-common.h) by hand: each test
 * sets d/dmin, the packed scales and the quants from the struct description and states the expected value of
 * every element as a formula, independent of the decoding code under test.
 */
class BlockLayoutTest {

    private static ByteBuffer block(GgmlType type) {
        return ByteBuffer.allocate(type.typeSize).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static float[] decode(GgmlType type, ByteBuffer block) throws Exception {
        GgufTensor t = new GgufTensor("b", new long[] {type.blockSize, 1}, type, 0, MemorySegment.ofArray(block.array()));
        WeightMatrix w = WeightMatrices.of(t);
        float[] out = new float[type.blockSize + 2];
        out[0] = 99f;
        out[type.blockSize + 1] = 99f;
        w.dequantizeRow(0, out, 1);
        assertEquals(99f, out[0], "wrote before off");
        assertEquals(99f, out[type.blockSize + 1], "wrote past off + cols");
        float[] v = new float[type.blockSize];
        System.arraycopy(out, 1, v, 0, v.length);
        // The fast path (decode into floats) must agree too.
        float[] fast = new float[type.blockSize];
        ((RepackedMatrix) w).decodeRow(0, fast);
        for (int i = 0; i < v.length; i++) {
            assertEquals(v[i], fast[i], Math.abs(v[i]) * 1e-6f + 1e-7f, type + " fast decode of value " + i);
        }
        return v;
    }

    private static short h(float f) {
        return Float.floatToFloat16(f);
    }

    @Test
    void q4_1() throws Exception {
        ByteBuffer b = block(GgmlType.Q4_1).putShort(h(0.5f)).putShort(h(-1f));
        for (int j = 0; j < 16; j++) {
            b.put((byte) (j | ((15 - j) << 4)));
        }
        float[] v = decode(GgmlType.Q4_1, b);
        for (int j = 0; j < 16; j++) {
            assertEquals(0.5f * j - 1f, v[j], "value " + j);
            assertEquals(0.5f * (15 - j) - 1f, v[j + 16], "value " + (j + 16));
        }
    }

    @Test
    void q5_0() throws Exception {
        // 5th bit set for values 16..31 only.
        ByteBuffer b = block(GgmlType.Q5_0).putShort(h(0.25f)).putInt(0xFFFF0000);
        for (int j = 0; j < 16; j++) {
            b.put((byte) (j | (j << 4)));
        }
        float[] v = decode(GgmlType.Q5_0, b);
        for (int j = 0; j < 16; j++) {
            assertEquals(0.25f * (j - 16), v[j], "value " + j);
            assertEquals(0.25f * (j + 16 - 16), v[j + 16], "value " + (j + 16));
        }
    }

    @Test
    void q5_1() throws Exception {
        // 5th bit set for values 0..15 only.
        ByteBuffer b = block(GgmlType.Q5_1).putShort(h(2f)).putShort(h(1f)).putInt(0x0000FFFF);
        for (int j = 0; j < 16; j++) {
            b.put((byte) (j | ((15 - j) << 4)));
        }
        float[] v = decode(GgmlType.Q5_1, b);
        for (int j = 0; j < 16; j++) {
            assertEquals(2f * (j + 16) + 1f, v[j], "value " + j);
            assertEquals(2f * (15 - j) + 1f, v[j + 16], "value " + (j + 16));
        }
    }

    @Test
    void q2_K() throws Exception {
        ByteBuffer b = block(GgmlType.Q2_K);
        for (int i = 0; i < 16; i++) {
            b.put((byte) (i | ((15 - i) << 4))); // sub-block i: scale i, min 15 - i
        }
        for (int i = 0; i < 64; i++) {
            b.put((byte) 0b11_10_01_00); // 2-bit field j (bits 2j..2j+1) holds j
        }
        b.putShort(h(1f)).putShort(h(0.5f));
        float[] v = decode(GgmlType.Q2_K, b);
        for (int e = 0; e < 256; e++) {
            int sub = e / 16;
            int q = (e % 128) / 32; // value 128h + 32j + l takes field j
            assertEquals(1f * sub * q - 0.5f * (15 - sub), v[e], "value " + e);
        }
    }

    @Test
    void q3_K() throws Exception {
        ByteBuffer b = block(GgmlType.Q3_K);
        // hmask: every high bit set (q = low 2 bits) except bit 0 of byte 5: value 5 gets q = low - 4.
        for (int i = 0; i < 32; i++) {
            b.put((byte) (i == 5 ? 0xFE : 0xFF));
        }
        for (int i = 0; i < 64; i++) {
            b.put((byte) 0b11_10_01_00);
        }
        // Scales: sub-block i has 6-bit value s_i = 32 + (i - 8) (i.e. scale i - 8): low nibbles in bytes 0..7
        // (sub-blocks 8..15 in the high nibbles), high 2 bits of sub-block i in byte 8 + i % 4 at bit 2·(i / 4).
        byte[] packed = new byte[12];
        for (int i = 0; i < 16; i++) {
            int s = 32 + (i - 8);
            packed[i % 8] |= (byte) ((s & 0x0F) << (i < 8 ? 0 : 4));
            packed[8 + i % 4] |= (byte) ((s >> 4) << (2 * (i / 4)));
        }
        b.put(packed).putShort(h(0.5f));
        float[] v = decode(GgmlType.Q3_K, b);
        for (int e = 0; e < 256; e++) {
            int low = (e % 128) / 32;
            int q = e == 5 ? low - 4 : low;
            assertEquals(0.5f * (e / 16 - 8) * q, v[e], "value " + e);
        }
    }

    /** The 12 scale bytes of Q4_K/Q5_K for 6-bit scales sc and mins m, as the struct comment describes them. */
    private static byte[] packK4(int[] sc, int[] m) {
        byte[] p = new byte[12];
        for (int j = 0; j < 4; j++) {
            p[j] = (byte) ((sc[j] & 63) | ((sc[j + 4] >> 4) << 6));
            p[j + 4] = (byte) ((m[j] & 63) | ((m[j + 4] >> 4) << 6));
            p[j + 8] = (byte) ((sc[j + 4] & 0x0F) | ((m[j + 4] & 0x0F) << 4));
        }
        return p;
    }

    private static final int[] SC = {1, 2, 3, 63, 17, 33, 50, 63};
    private static final int[] MIN = {0, 5, 10, 63, 16, 1, 31, 48};

    @Test
    void q4_K() throws Exception {
        ByteBuffer b = block(GgmlType.Q4_K).putShort(h(0.25f)).putShort(h(0.125f)).put(packK4(SC, MIN));
        for (int c = 0; c < 4; c++) {
            for (int l = 0; l < 32; l++) {
                b.put((byte) ((l % 16) | ((15 - l % 16) << 4)));
            }
        }
        float[] v = decode(GgmlType.Q4_K, b);
        for (int c = 0; c < 4; c++) {
            for (int l = 0; l < 32; l++) {
                assertEquals(0.25f * SC[2 * c] * (l % 16) - 0.125f * MIN[2 * c], v[64 * c + l], "value " + (64 * c + l));
                assertEquals(0.25f * SC[2 * c + 1] * (15 - l % 16) - 0.125f * MIN[2 * c + 1], v[64 * c + 32 + l],
                        "value " + (64 * c + 32 + l));
            }
        }
    }

    @Test
    void q5_K() throws Exception {
        ByteBuffer b = block(GgmlType.Q5_K).putShort(h(0.25f)).putShort(h(0.125f)).put(packK4(SC, MIN));
        // qh[l]: bit 2c set for odd l (5th bit of value 64c + l), bit 2c+1 for l < 8 (of value 64c + 32 + l).
        for (int l = 0; l < 32; l++) {
            b.put((byte) ((l % 2 == 1 ? 0x55 : 0) | (l < 8 ? 0xAA : 0)));
        }
        for (int c = 0; c < 4; c++) {
            for (int l = 0; l < 32; l++) {
                b.put((byte) ((l % 16) | ((15 - l % 16) << 4)));
            }
        }
        float[] v = decode(GgmlType.Q5_K, b);
        for (int c = 0; c < 4; c++) {
            for (int l = 0; l < 32; l++) {
                int q0 = l % 16 + (l % 2 == 1 ? 16 : 0);
                int q1 = 15 - l % 16 + (l < 8 ? 16 : 0);
                assertEquals(0.25f * SC[2 * c] * q0 - 0.125f * MIN[2 * c], v[64 * c + l], "value " + (64 * c + l));
                assertEquals(0.25f * SC[2 * c + 1] * q1 - 0.125f * MIN[2 * c + 1], v[64 * c + 32 + l],
                        "value " + (64 * c + 32 + l));
            }
        }
    }

    @Test
    void q6_K() throws Exception {
        // Value e gets the 6-bit quant q(e) = (e * 7) % 64, placed as the struct comment says.
        int[] q = new int[256];
        for (int e = 0; e < 256; e++) {
            q[e] = (e * 7) % 64;
        }
        byte[] ql = new byte[128];
        byte[] qh = new byte[64];
        for (int h = 0; h < 2; h++) {
            for (int l = 0; l < 32; l++) {
                int base = 128 * h;
                ql[64 * h + l] = (byte) ((q[base + l] & 15) | ((q[base + 64 + l] & 15) << 4));
                ql[64 * h + 32 + l] = (byte) ((q[base + 32 + l] & 15) | ((q[base + 96 + l] & 15) << 4));
                qh[32 * h + l] = (byte) ((q[base + l] >> 4) | ((q[base + 32 + l] >> 4) << 2)
                        | ((q[base + 64 + l] >> 4) << 4) | ((q[base + 96 + l] >> 4) << 6));
            }
        }
        ByteBuffer b = block(GgmlType.Q6_K).put(ql).put(qh);
        for (int i = 0; i < 16; i++) {
            b.put((byte) (i * 16 - 128)); // int8 scales -128, -112, ..., 112
        }
        b.putShort(h(0.5f));
        float[] v = decode(GgmlType.Q6_K, b);
        for (int e = 0; e < 256; e++) {
            assertEquals(0.5f * (e / 16 * 16 - 128) * (q[e] - 32), v[e], "value " + e);
        }
    }
}
