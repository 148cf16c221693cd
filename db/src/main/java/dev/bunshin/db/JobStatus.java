package dev.bunshin.db;

import java.util.Locale;

/**
 * The {@code jobs.status} column (db/migrations/V2): queued (submitter) → running (scheduler) → completed (tail),
 * failed (scheduler or any stage) or cancelled (submitter). The three last are final: nothing moves a job on.
 */
public enum JobStatus {
    QUEUED, RUNNING, COMPLETED, FAILED, CANCELLED;

    /** The value stored in the column. */
    public String sql() {
        return name().toLowerCase(Locale.ROOT);
    }

    public boolean isFinal() {
        return this == COMPLETED || this == FAILED || this == CANCELLED;
    }

    /** The status a column value names. */
    public static JobStatus of(String sql) {
        for (JobStatus s : values()) {
            if (s.sql().equals(sql)) return s;
        }
        throw new IllegalArgumentException("unknown job status '" + sql + "'");
    }
}
