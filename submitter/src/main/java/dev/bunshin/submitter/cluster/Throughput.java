package dev.bunshin.submitter.cluster;

import java.util.ArrayList;
import java.util.List;

/**
 * The last {@code capacity} samples of a growing counter (generated tokens) with their times, in a ring: the rate
 * between consecutive samples is tokens per second over that interval. Thread-safe: one sampler records, any number
 * of streams read.
 */
final class Throughput {

    /** One interval's rate: {@code tokensPerSecond} over the interval that ended at {@code epochMillis}. */
    record Rate(long epochMillis, double tokensPerSecond) {}

    private final long[] times;   // [capacity] epoch millis of each sample
    private final long[] totals;  // [capacity] counter value at that time
    private int next;             // slot of the next sample
    private int size;

    Throughput(int capacity) {
        if (capacity < 2) throw new IllegalArgumentException("capacity " + capacity + ": at least 2 samples make a rate");
        times = new long[capacity];
        totals = new long[capacity];
    }

    synchronized void record(long epochMillis, long total) {
        times[next] = epochMillis;
        totals[next] = total;
        next = (next + 1) % times.length;
        size = Math.min(size + 1, times.length);
    }

    /**
     * Rates between consecutive samples, oldest first (one fewer than the samples). A counter that went down (a
     * restarted count) reads as 0 for that interval.
     */
    synchronized List<Rate> rates() {
        List<Rate> out = new ArrayList<>(Math.max(0, size - 1));
        int first = (next - size + times.length) % times.length;
        for (int k = 1; k < size; k++) {
            int prev = (first + k - 1) % times.length;
            int cur = (first + k) % times.length;
            long dt = times[cur] - times[prev];
            double rate = dt <= 0 ? 0 : Math.max(0, totals[cur] - totals[prev]) * 1000.0 / dt;
            out.add(new Rate(times[cur], rate));
        }
        return out;
    }

    /** Tokens per second over the samples of the last {@code windowMillis} before the newest; 0 with fewer than 2. */
    synchronized double recent(long windowMillis) {
        if (size < 2) return 0;
        int last = (next - 1 + times.length) % times.length;
        int from = last;
        for (int k = 1; k < size; k++) {
            int i = (last - k + times.length) % times.length;
            if (times[last] - times[i] > windowMillis) break;
            from = i;
        }
        long dt = times[last] - times[from];
        return dt <= 0 ? 0 : Math.max(0, totals[last] - totals[from]) * 1000.0 / dt;
    }

    /** The newest sample's counter value, 0 before the first. */
    synchronized long total() {
        return size == 0 ? 0 : totals[(next - 1 + times.length) % times.length];
    }
}
