package dev.bunshin.protocol;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class ActivationCodecTest {

    private static float[] randomActivations(int n, long seed) {
        Random r = new Random(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (r.nextGaussian() * 3);
        return a;
    }

    @Test
    void tokenPrefillRoundTrips() {
        ActivationRecord r = ActivationRecord.prefill(42L, 3, 512, 1, 3, new int[]{1, 403, 407, 261, 378});
        byte[] bytes = ActivationCodec.encode(r);
        assertEquals(ActivationCodec.HEADER_BYTES + 5 * 4, bytes.length);
        ActivationRecord d = ActivationCodec.decode(bytes);
        assertEquals(RecordType.PREFILL, d.type());
        assertEquals(42L, d.jobId());
        assertEquals(3, d.epoch());
        assertEquals(512, d.pos());
        assertEquals(5, d.nTokens());
        assertEquals(1, d.chunkIndex());
        assertEquals(3, d.chunkCount());
        assertArrayEquals(r.tokens(), d.tokens());
        assertNull(d.activations());
        assertFalse(d.samples());
    }

    @Test
    void f32ActivationsRoundTripBitExact() {
        float[] a = randomActivations(7 * 64, 1);
        a[3] = Float.NaN;
        a[4] = -0f;
        a[5] = Float.MIN_VALUE;
        ActivationRecord r = ActivationRecord.prefill(9L, 1, 0, 2, 3, new int[7]).withActivations(a, WirePrecision.F32);
        ActivationRecord d = ActivationCodec.decode(ActivationCodec.encode(r));
        assertEquals(64, d.nEmbd());
        assertEquals(7, d.nTokens());
        assertTrue(d.samples(), "last chunk samples");
        for (int i = 0; i < a.length; i++) {
            assertEquals(Float.floatToRawIntBits(a[i]), Float.floatToRawIntBits(d.activations()[i]), "value " + i);
        }
    }

    @Test
    void halfPrecisionsRoundTripWithinTheirRounding() {
        float[] a = randomActivations(3 * 16, 2);
        for (WirePrecision p : new WirePrecision[]{WirePrecision.F16, WirePrecision.BF16}) {
            ActivationRecord r = ActivationRecord.decode(5L, 0, 10, 7).withActivations(a, p);
            byte[] bytes = ActivationCodec.encode(r);
            assertEquals(ActivationCodec.HEADER_BYTES + a.length * 2, bytes.length, p.name());
            float[] back = ActivationCodec.decode(bytes).activations();
            // F16 has an 11-bit significand, BF16 8 bits: relative error at most 2^-11 and 2^-8.
            double tol = p == WirePrecision.F16 ? 1.0 / 2048 : 1.0 / 256;
            for (int i = 0; i < a.length; i++) {
                assertEquals(a[i], back[i], Math.abs(a[i]) * tol + 1e-6, p + " value " + i);
            }
        }
    }

    @Test
    void bf16RoundsToNearestEven() {
        // 1 + 2^-8 is halfway between two bf16 values: ties go to the even one (1.0).
        assertEquals(Float.floatToRawIntBits(1f) >>> 16, ActivationCodec.toBf16(1f + 0x1p-8f) & 0xFFFF);
        // 1 + 3 * 2^-8 is halfway too: rounds up to the even 1 + 2^-6.
        assertEquals(Float.floatToRawIntBits(1f + 0x1p-6f) >>> 16, ActivationCodec.toBf16(1f + 3 * 0x1p-8f) & 0xFFFF);
    }

    @Test
    void freeHasNoPayload() {
        byte[] bytes = ActivationCodec.encode(ActivationRecord.free(77L, 4));
        assertEquals(ActivationCodec.HEADER_BYTES, bytes.length);
        ActivationRecord d = ActivationCodec.decode(bytes);
        assertEquals(RecordType.FREE, d.type());
        assertEquals(77L, d.jobId());
        assertEquals(4, d.epoch());
        assertFalse(d.samples());
    }

    @Test
    void otherVersionIsRefusedWithAClearError() {
        byte[] bytes = ActivationCodec.encode(ActivationRecord.decode(1L, 0, 5, 9));
        bytes[4] = 2;
        ProtocolException e = assertThrows(ProtocolException.class, () -> ActivationCodec.decode(bytes));
        assertTrue(e.getMessage().contains("unsupported record version 2"), e.getMessage());
    }

    @Test
    void badMagicIsRefused() {
        byte[] bytes = ActivationCodec.encode(ActivationRecord.decode(1L, 0, 5, 9));
        bytes[0] ^= 0x55;
        ProtocolException e = assertThrows(ProtocolException.class, () -> ActivationCodec.decode(bytes));
        assertTrue(e.getMessage().contains("bad magic"), e.getMessage());
    }

    @Test
    void corruptLengthIsRefused() {
        byte[] bytes = ActivationCodec.encode(ActivationRecord.prefill(1L, 0, 0, 0, 1, new int[]{1, 2, 3}));
        byte[] truncated = java.util.Arrays.copyOf(bytes, bytes.length - 4);
        ProtocolException e = assertThrows(ProtocolException.class, () -> ActivationCodec.decode(truncated));
        assertTrue(e.getMessage().contains("corrupt length"), e.getMessage());

        // A header claiming more tokens than the payload holds.
        bytes[24] = 100;
        e = assertThrows(ProtocolException.class, () -> ActivationCodec.decode(bytes));
        assertTrue(e.getMessage().contains("corrupt length"), e.getMessage());

        assertThrows(ProtocolException.class, () -> ActivationCodec.decode(new byte[10]));
    }

    @Test
    void flippedPayloadByteFailsTheChecksum() {
        byte[] bytes = ActivationCodec.encode(ActivationRecord.prefill(1L, 0, 0, 0, 1, new int[]{1, 2, 3}));
        bytes[bytes.length - 1] ^= 1;
        ProtocolException e = assertThrows(ProtocolException.class, () -> ActivationCodec.decode(bytes));
        assertTrue(e.getMessage().contains("checksum"), e.getMessage());
    }

    @Test
    void serializerAndDeserializerUseTheCodec() {
        try (var ser = new ActivationSerializer(); var de = new ActivationDeserializer()) {
            ActivationRecord r = ActivationRecord.decode(3L, 2, 8, 100);
            ActivationRecord d = de.deserialize("t", ser.serialize("t", r));
            assertArrayEquals(new int[]{100}, d.tokens());
            assertEquals(8, d.pos());
            assertNull(de.deserialize("t", null));
        }
    }
}
