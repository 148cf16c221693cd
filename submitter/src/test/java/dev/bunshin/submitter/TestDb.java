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

    static void fail(long job, String error) {
        exec("UPDATE jobs SET status = 'failed', finish_reason = 'error', error = ?, finished_at = now() WHERE id = ?",
                error, job);
    }
}
