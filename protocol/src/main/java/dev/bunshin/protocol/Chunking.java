package dev.bunshin.protocol;

/**
 * How many positions go in one prefill record. A prefill chunk keeps its size through every stage, so the size
 * must fit the largest record on the way: the activations {@code [nTokens, nEmbd]} at the wire precision.
 */
public final class Chunking {

    /** Upper bound per record: large enough to batch well, small enough to bound one stage call. */
    public static final int MAX_TOKENS_PER_RECORD = 512;

    private Chunking() {}

    /**
     * @param nEmbd          the model's embedding length
     * @param precision      wire precision of activations
     * @param maxRecordBytes the largest record value the topics and clients accept (max.message.bytes)
     * @return positions per prefill record, at least 1
     */
    public static int tokensPerRecord(int nEmbd, WirePrecision precision, int maxRecordBytes) {
        // Kafka's record batch overhead and key: keep 1 KiB of headroom.
        long budget = (long) maxRecordBytes - ActivationCodec.HEADER_BYTES - 1024;
        long perToken = (long) nEmbd * precision.bytes;
        long n = Math.min(MAX_TOKENS_PER_RECORD, budget / perToken);
        if (n < 1) {
            throw new IllegalArgumentException("one position of " + nEmbd + " " + precision + " values ("
                    + perToken + " B) does not fit a record of " + maxRecordBytes + " B: raise max message size");
        }
        return (int) n;
    }

    /** Number of records for {@code nTokens} positions. */
    public static int chunkCount(int nTokens, int tokensPerRecord) {
        return (nTokens + tokensPerRecord - 1) / tokensPerRecord;
    }
}
