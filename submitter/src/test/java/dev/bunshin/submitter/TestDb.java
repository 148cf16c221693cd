package dev.bunshin.submitter;

import io.agroal.api.AgroalDataSource;
import io.quarkus.arc.Arc;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;

/**
 * Plays the pipeline in the database, exactly as the scheduler and the tail stage worker do (the V2 contract):
 * start a job, insert job_tokens rows, end the job. No pipeline runs in the submitter's tests.
 */
final class TestDb {

    private TestDb() {}

    static void exec(String sql, Object... args) {
        try (Connection c = Arc.container().instance(AgroalDataSource.class).get().getConnection();
             PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            ps.executeUpdate();
        } catch (SQLException e) {
            throw new IllegalStateException(sql + ": " + e.getMessage(), e);
        }
    }

    /** The first column of the first row, as text. */
    static String query(String sql, Object... args) {
        try (Connection c = Arc.container().instance(AgroalDataSource.class).get().getConnection();
             PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            try (var rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        } catch (SQLException e) {
            throw new IllegalStateException(sql + ": " + e.getMessage(), e);
        }
    }

    /** The scheduler dispatches the job. */
    static void start(long job) {
        exec("UPDATE jobs SET status = 'running', started_at = now() WHERE id = ?", job);
    }

    /** The tail writes one token (and the first-token time, and the running count). */
    static void token(long job, int position, int tokenId, String text) {
        exec("INSERT INTO job_tokens (job_id, position, token_id, text) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                job, position, tokenId, text);
        exec("UPDATE jobs SET token_count = greatest(token_count, ?), first_token_at = coalesce(first_token_at, now()) "
                + "WHERE id = ?", position + 1, job);
    }

    /** The tail ends the job: final text is the concatenation of its tokens. */
    static void finish(long job, String finishReason) {
        exec("UPDATE jobs SET status = 'completed', finish_reason = ?, finished_at = now(), "
                + "text = (SELECT coalesce(string_agg(text, '' ORDER BY position), '') FROM job_tokens WHERE job_id = jobs.id) "
                + "WHERE id = ?", finishReason, job);
    }

    /**
     * Plays the pipeline for the next job of this kind queued after {@code afterId}: waits for it, writes the
     * tokens (each text one token), ends it. Runs in the background; completes with the job id.
     */
    static java.util.concurrent.CompletableFuture<Long> playNext(String kind, long afterId, String finishReason,
                                                                  String... texts) {
        return java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            long deadline = System.nanoTime() + 20_000_000_000L;
            while (System.nanoTime() < deadline) {
                String id = query("SELECT min(id)::text FROM jobs WHERE kind = ? AND id > ? AND status = 'queued'",
                        kind, afterId);
                if (id != null) {
                    long job = Long.parseLong(id);
                    start(job);
                    for (int i = 0; i < texts.length; i++) {
                        sleep(15);
                        token(job, i, 100 + i, texts[i]);
                    }
                    if ("error".equals(finishReason)) {
                        fail(job, "stage worker 1 lost");
                    } else {
                        finish(job, finishReason);
                    }
                    return job;
                }
                sleep(10);
            }
            throw new IllegalStateException("no " + kind + " job was queued");
        });
    }

    static long maxJobId() {
        String s = query("SELECT coalesce(max(id), 0)::text FROM jobs");
        return Long.parseLong(s);
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static void fail(long job, String error) {
        exec("UPDATE jobs SET status = 'failed', finish_reason = 'error', error = ?, finished_at = now() WHERE id = ?",
                error, job);
    }
}
