package dev.bunshin.protocol;

import java.util.Objects;

/**
 * What flows between stages: one job's part of a stage call. The Kafka record key is {@link #jobId()}, so all of a
 * job's records land on one partition and stay in order.
 *
 * <p>Stage 0 receives {@link RecordType#PREFILL} chunks (from the scheduler) and {@link RecordType#DECODE} steps
 * (from the tail) carrying token ids; later stages receive the same records with the previous stage's
 * activations instead. {@link RecordType#FREE} carries no payload.
 *
 * @param type        what to do
 * @param jobId       the job, also the engine's sequence id and the Kafka key
 * @param epoch       the stage plan this record belongs to; workers drop records of older plans
 * @param pos         sequence position of the first token
 * @param nTokens     positions in this record (0 for FREE)
 * @param chunkIndex  0-based index of this prefill chunk (0 for DECODE/FREE)
 * @param chunkCount  number of chunks of this prefill (1 for DECODE/FREE); the tail samples after the last
 * @param precision   how activations travel on the wire (ignored for token ids)
 * @param tokens      token ids {@code [nTokens]} for stage 0, else null
 * @param activations F32 {@code [nTokens, nEmbd]} row-major for later stages, else null
 */
public record ActivationRecord(RecordType type, long jobId, int epoch, int pos, int nTokens, int chunkIndex,
                               int chunkCount, WirePrecision precision, int[] tokens, float[] activations) {

    public ActivationRecord {
        Objects.requireNonNull(type, "type == null");
        Objects.requireNonNull(precision, "precision == null");
        if (pos < 0) throw new IllegalArgumentException("job " + jobId + ": pos < 0: " + pos);
        if (nTokens < 0) throw new IllegalArgumentException("job " + jobId + ": nTokens < 0: " + nTokens);
        if (chunkCount < 1 || chunkIndex < 0 || chunkIndex >= chunkCount || chunkCount > 0xFFFF) {
            throw new IllegalArgumentException("job " + jobId + ": bad chunk " + chunkIndex + "/" + chunkCount);
        }
        if (tokens != null && activations != null) {
            throw new IllegalArgumentException("job " + jobId + ": both tokens and activations");
        }
        if (tokens != null && tokens.length != nTokens) {
            throw new IllegalArgumentException("job " + jobId + ": " + tokens.length + " tokens, nTokens " + nTokens);
        }
        if (activations != null && (nTokens == 0 || activations.length % nTokens != 0)) {
            throw new IllegalArgumentException("job " + jobId + ": " + activations.length
                    + " activations do not split into " + nTokens + " rows");
        }
        if (type == RecordType.FREE && (tokens != null || activations != null)) {
            throw new IllegalArgumentException("job " + jobId + ": FREE carries no payload");
        }
    }

    public static ActivationRecord prefill(long jobId, int epoch, int pos, int chunkIndex, int chunkCount, int[] tokens) {
        return new ActivationRecord(RecordType.PREFILL, jobId, epoch, pos, tokens.length, chunkIndex, chunkCount,
                WirePrecision.F32, tokens, null);
    }

    public static ActivationRecord decode(long jobId, int epoch, int pos, int token) {
        return new ActivationRecord(RecordType.DECODE, jobId, epoch, pos, 1, 0, 1, WirePrecision.F32,
                new int[]{token}, null);
    }

    public static ActivationRecord free(long jobId, int epoch) {
        return new ActivationRecord(RecordType.FREE, jobId, epoch, 0, 0, 0, 1, WirePrecision.F32, null, null);
    }

    /** The same record with the next stage's input: {@code activations} F32 {@code [nTokens, nEmbd]}. */
    public ActivationRecord withActivations(float[] activations, WirePrecision precision) {
        return new ActivationRecord(type, jobId, epoch, pos, nTokens, chunkIndex, chunkCount, precision, null,
                activations);
    }

    /** Whether the tail samples a token after running this record (the last prefill chunk, or a decode step). */
    public boolean samples() {
        return type == RecordType.DECODE || (type == RecordType.PREFILL && chunkIndex == chunkCount - 1);
    }

    /** Width of the activation rows, or 0 without activations. */
    public int nEmbd() {
        return activations == null ? 0 : activations.length / nTokens;
    }

    @Override
    public String toString() {
        return type + "{job " + jobId + ", epoch " + epoch + ", pos " + pos + ", n " + nTokens + ", chunk "
                + chunkIndex + "/" + chunkCount + (activations != null ? ", " + precision + " x" + nEmbd() : "") + "}";
    }
}
