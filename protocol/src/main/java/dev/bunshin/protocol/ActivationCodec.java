package dev.bunshin.protocol;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/**
 * Binary form of an {@link ActivationRecord}: a fixed 44-byte header, then the payload. Little-endian throughout
 * (the byte order of every machine we run on, so float arrays copy in bulk). See docs/protocol.md.
 *
 * <pre>
 * offset size field
 *  0     4    magic 'BNSH' (0x424E5348, written little-endian)
 *  4     1    version (1)
 *  5     1    record type   (1 PREFILL, 2 DECODE, 3 FREE)
 *  6     1    wire precision (0 F32, 1 F16, 2 BF16) of activations
 *  7     1    payload kind  (0 none, 1 token ids int32[nTokens], 2 activations [nTokens, nEmbd])
 *  8     8    job id
 * 16     4    plan epoch
 * 20     4    position of the first token
 * 24     4    nTokens
 * 28     2    chunk index (unsigned)
 * 30     2    chunk count (unsigned)
 * 32     4    nEmbd (0 unless activations)
 * 36     4    payload length in bytes
 * 40     4    CRC32C of the payload
 * 44     ...  payload
 * </pre>
 */
public final class ActivationCodec {

    public static final int MAGIC = 0x424E5348;
    public static final int VERSION = 1;
    public static final int HEADER_BYTES = 44;

    private static final int PAYLOAD_NONE = 0;
    private static final int PAYLOAD_TOKENS = 1;
    private static final int PAYLOAD_ACTIVATIONS = 2;

    private ActivationCodec() {}

    /** Bytes {@link #encode} will produce for {@code nTokens} positions of {@code nEmbd} values (0 = token ids). */
    public static int encodedSize(int nTokens, int nEmbd, WirePrecision precision) {
        long payload = nEmbd == 0 ? 4L * nTokens : (long) nTokens * nEmbd * precision.bytes;
        return Math.toIntExact(HEADER_BYTES + payload);
    }

    public static byte[] encode(ActivationRecord r) {
        int kind = r.tokens() != null ? PAYLOAD_TOKENS : r.activations() != null ? PAYLOAD_ACTIVATIONS : PAYLOAD_NONE;
        int nEmbd = r.nEmbd();
        byte[] out = new byte[encodedSize(kind == PAYLOAD_NONE ? 0 : r.nTokens(), nEmbd, r.precision())];
        ByteBuffer b = ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
        b.position(HEADER_BYTES);
        switch (kind) {
            case PAYLOAD_TOKENS -> b.asIntBuffer().put(r.tokens());
            case PAYLOAD_ACTIVATIONS -> writeActivations(b, r.activations(), r.precision());
            default -> { }
        }
        int payloadBytes = out.length - HEADER_BYTES;
        CRC32C crc = new CRC32C();
        crc.update(out, HEADER_BYTES, payloadBytes);
        b.position(0);
        b.putInt(MAGIC).put((byte) VERSION).put((byte) r.type().code).put((byte) r.precision().code).put((byte) kind)
                .putLong(r.jobId()).putInt(r.epoch()).putInt(r.pos()).putInt(r.nTokens())
                .putShort((short) r.chunkIndex()).putShort((short) r.chunkCount())
                .putInt(nEmbd).putInt(payloadBytes).putInt((int) crc.getValue());
        return out;
    }

    /** Decodes one record; throws {@link ProtocolException} naming what is wrong. */
    public static ActivationRecord decode(byte[] data) {
        if (data == null) throw new ProtocolException("null record value");
        if (data.length < HEADER_BYTES) {
            throw new ProtocolException("record of " + data.length + " bytes is shorter than the " + HEADER_BYTES
                    + "-byte header");
        }
        ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        int magic = b.getInt();
        if (magic != MAGIC) {
            throw new ProtocolException(String.format("bad magic 0x%08X (expected 0x%08X 'BNSH')", magic, MAGIC));
        }
        int version = b.get() & 0xFF;
        if (version != VERSION) {
            throw new ProtocolException("unsupported record version " + version + " (this build reads version "
                    + VERSION + "); upgrade every worker and the scheduler together");
        }
        RecordType type = RecordType.ofCode(b.get() & 0xFF);
        WirePrecision precision = WirePrecision.ofCode(b.get() & 0xFF);
        int kind = b.get() & 0xFF;
        long jobId = b.getLong();
        int epoch = b.getInt();
        int pos = b.getInt();
        int nTokens = b.getInt();
        int chunkIndex = b.getShort() & 0xFFFF;
        int chunkCount = b.getShort() & 0xFFFF;
        int nEmbd = b.getInt();
        int payloadBytes = b.getInt();
        int crcExpected = b.getInt();
        String where = "job " + jobId + " " + type;
        if (nTokens < 0 || nEmbd < 0) {
            throw new ProtocolException(where + ": negative nTokens " + nTokens + " or nEmbd " + nEmbd);
        }
        long expected = switch (kind) {
            case PAYLOAD_NONE -> 0L;
            case PAYLOAD_TOKENS -> 4L * nTokens;
            case PAYLOAD_ACTIVATIONS -> (long) nTokens * nEmbd * precision.bytes;
            default -> throw new ProtocolException(where + ": unknown payload kind " + kind);
        };
        if (payloadBytes != expected || payloadBytes != data.length - HEADER_BYTES) {
            throw new ProtocolException(where + ": corrupt length: header says " + payloadBytes
                    + " payload bytes, shape needs " + expected + ", record has " + (data.length - HEADER_BYTES));
        }
        CRC32C crc = new CRC32C();
        crc.update(data, HEADER_BYTES, payloadBytes);
        if ((int) crc.getValue() != crcExpected) {
            throw new ProtocolException(where + ": payload checksum mismatch");
        }
        int[] tokens = null;
        float[] activations = null;
        if (kind == PAYLOAD_TOKENS) {
            tokens = new int[nTokens];
            b.asIntBuffer().get(tokens);
        } else if (kind == PAYLOAD_ACTIVATIONS) {
            if (nTokens == 0 || nEmbd == 0) throw new ProtocolException(where + ": empty activations");
            activations = readActivations(b, nTokens * nEmbd, precision);
        }
        try {
            return new ActivationRecord(type, jobId, epoch, pos, nTokens, chunkIndex, chunkCount, precision, tokens,
                    activations);
        } catch (IllegalArgumentException e) {
            throw new ProtocolException(e.getMessage());
        }
    }

    private static void writeActivations(ByteBuffer b, float[] a, WirePrecision p) {
        switch (p) {
            case F32 -> b.asFloatBuffer().put(a);
            case F16 -> {
                for (float v : a) b.putShort(Float.floatToFloat16(v));
            }
            case BF16 -> {
                for (float v : a) b.putShort(toBf16(v));
            }
        }
    }

    private static float[] readActivations(ByteBuffer b, int n, WirePrecision p) {
        float[] a = new float[n];
        switch (p) {
            case F32 -> b.asFloatBuffer().get(a);
            case F16 -> {
                for (int i = 0; i < n; i++) a[i] = Float.float16ToFloat(b.getShort());
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) a[i] = Float.intBitsToFloat((b.getShort() & 0xFFFF) << 16);
            }
        }
        return a;
    }

    /** Rounds to nearest even, like ggml's fp32→bf16 (NaN stays NaN). */
    static short toBf16(float v) {
        int bits = Float.floatToRawIntBits(v);
        if ((bits & 0x7FFFFFFF) > 0x7F800000) return (short) ((bits >>> 16) | 0x40);
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }
}
