package dev.bunshin.submitter.cluster;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayDeque;
import java.util.Objects;

/**
 * Tokens generated so far for one model, the sum of {@code jobs.token_count}, read cheaply enough to sample every
 * second. Summing the whole table would scan every job ever run; instead the jobs below a watermark, all ended
 * (their counts never change again), are summed once into a base, and each read sums only the primary-key range from
 * the watermark up: the jobs still queued or running and those that ended since. The watermark moves up to the
 * oldest job not yet ended, but never past an id first seen fewer than {@link #SETTLE_READS} reads ago: a job id is
 * taken when its row is inserted and becomes visible only at commit, so a lower id may still appear for a while.
 *
 * <p>Not thread-safe: one sampler calls {@link #read}. The first read sums the whole table once.
 */
final class TokenCounter {

    /** Reads (about seconds, sampled every second) before an id is taken to be committed or gone. */
    static final int SETTLE_READS = 10;

    private final String model;
    private long watermark = 1;       // every job of the model with id < watermark has ended and is in base
    private long base;                // sum of token_count of those jobs
    private final ArrayDeque<Long> maxIds = new ArrayDeque<>(); // max(id) at the last reads, oldest first

    TokenCounter(String model) {
        this.model = Objects.requireNonNull(model, "model == null");
    }

    /** The model's generated tokens so far: three index reads and one primary-key range sum. */
    long read(Connection c) throws SQLException {
        long oldestOpen;
        long maxId;
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT least((SELECT min(id) FROM jobs WHERE status = 'queued' AND model = ?),
                             (SELECT min(id) FROM jobs WHERE status = 'running' AND model = ?)) AS oldest_open,
                       (SELECT coalesce(max(id), 0) FROM jobs) AS max_id""")) {
            // One status per min(): each is the first entry of jobs_status_id (status, id) for that status. With
            // status IN (...) the planner walks the primary key from id 1 instead, through every ended job.
            ps.setString(1, model);
            ps.setString(2, model);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                maxId = rs.getLong("max_id");
                long open = rs.getLong("oldest_open");
                oldestOpen = rs.wasNull() ? maxId + 1 : open;
            }
        }
        maxIds.addLast(maxId);
        long settled = maxIds.size() > SETTLE_READS ? maxIds.removeFirst() + 1 : watermark;
        long next = Math.max(watermark, Math.min(oldestOpen, settled));
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT coalesce(sum(token_count) FILTER (WHERE id < ?), 0) AS ended, coalesce(sum(token_count), 0) AS all
                FROM jobs WHERE id >= ? AND model = ?""")) {
            ps.setLong(1, next);
            ps.setLong(2, watermark);
            ps.setString(3, model);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                long total = base + rs.getLong("all");
                base += rs.getLong("ended");
                watermark = next;
                return total;
            }
        }
    }

    /** Every job with a lower id is summed into the base (for tests and the measurement in docs/api.md). */
    long watermark() {
        return watermark;
    }
}
