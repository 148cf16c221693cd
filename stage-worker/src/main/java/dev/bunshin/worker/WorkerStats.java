package dev.bunshin.worker;

import java.time.Duration;
import java.util.Locale;
import java.util.logging.Logger;

/**
 * What a stage worker did lately, logged once per period when it did anything: engine calls, records per call
 * (continuous batching at work, or not), and where the time went (engine, handing records to Kafka). Only the
 * poll-loop thread touches it.
 */
final class WorkerStats {
    private static final Logger LOG = Logger.getLogger(WorkerStats.class.getName());

    private final long periodNanos;
    private long since = System.nanoTime();
    private long calls;
    private long records;
    private int maxBatch;
    private long engineNanos;
    private long sendNanos;
    private long ackNanos;
    private long tailNanos;
    private long storeNanos;
    private long arrivals;
    private long ageMillis;
    /** Ages of the period's first arrivals, for the median. */
    private final long[] ages = new long[4096];

    WorkerStats(Duration period) {
        this.periodNanos = period.toNanos();
    }

    void engineCall(int batch, long nanos) {
        calls++;
        records += batch;
        maxBatch = Math.max(maxBatch, batch);
        engineNanos += nanos;
    }

    /** Records handed to the producer (serialised and queued; linger 0 sends them at once). */
    void sent(long nanos) {
        sendNanos += nanos;
    }

    /** Waiting for the broker's acknowledgements of one poll's outputs. */
    void acked(long nanos) {
        ackNanos += nanos;
    }

    /**
     * The tail's work on one engine call's logits on the engine's thread (sampling, handing the store over, waiting
     * for room), and the time its store thread spent storing meanwhile (transactions, beside the engine).
     */
    void tail(long nanos, long storing) {
        tailNanos += nanos;
        storeNanos += storing;
    }

    /** A record polled {@code millis} after its producer sent it (the hop into this stage, and any queueing). */
    void arrived(long millis) {
        if (arrivals < ages.length) ages[(int) arrivals] = Math.max(0, millis);
        arrivals++;
        ageMillis += Math.max(0, millis);
    }

    void maybeLog(String worker, int stage) {
        long now = System.nanoTime();
        long elapsed = now - since;
        if (elapsed < periodNanos) return;
        if (calls > 0) {
            LOG.info(String.format(Locale.ROOT, "worker %s stage %d, last %.0f s: %d engine calls, %d records "
                            + "(%.1f per call, at most %d); engine %.0f%% of the time (%.1f ms per call), sending %.0f%%, "
                            + "waiting for acks %.0f%%, tail %.1f ms per call (storing %.1f beside it); records polled %.1f ms "
                            + "after they were sent (mean; median %d)",
                    worker, stage, elapsed / 1e9, calls, records, (double) records / calls, maxBatch,
                    100.0 * engineNanos / elapsed, engineNanos / 1e6 / calls, 100.0 * sendNanos / elapsed,
                    100.0 * ackNanos / elapsed, tailNanos / 1e6 / calls, storeNanos / 1e6 / calls,
                    arrivals == 0 ? 0.0 : (double) ageMillis / arrivals, medianAge()));
        }
        since = now;
        calls = records = engineNanos = sendNanos = ackNanos = tailNanos = storeNanos = arrivals = ageMillis = 0;
        maxBatch = 0;
    }

    private long medianAge() {
        int n = (int) Math.min(arrivals, ages.length);
        if (n == 0) return 0;
        long[] sorted = java.util.Arrays.copyOf(ages, n);
        java.util.Arrays.sort(sorted);
        return sorted[n / 2];
    }
}
