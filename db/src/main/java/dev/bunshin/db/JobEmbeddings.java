package dev.bunshin.db;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;

/**
 * Embedding jobs (db/migrations/V22): a {@code jobs} row of kind {@link #KIND} whose tail, instead of sampling,
 * stores the pooled final hidden state of its prompt in {@code jobs.embedding} and completes the job.
 */
public final class JobEmbeddings {

    private JobEmbeddings() {}

    /** {@code jobs.kind} of an embedding job. */
    public static final String KIND = "embedding";

    /**
     * Completes a running embedding job with its pooled vector: status {@code completed}, finish reason {@code stop},
     * no tokens, empty text. A no-op for a job no longer running (cancelled, failed) or not an embedding job.
     *
     * @param embedding F32 {@code [nEmbd]}, pooled, not normalised
     * @return whether the job was running (and the vector stored)
     */
    public static boolean complete(Connection c, long jobId, float[] embedding) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                UPDATE jobs SET status = ?, finish_reason = 'stop', finished_at = now(), text = '', token_count = 0,
                       embedding = ?
                 WHERE id = ? AND status = ? AND kind = ?""")) {
            Float[] boxed = new Float[embedding.length];
            for (int i = 0; i < boxed.length; i++) boxed[i] = embedding[i];
            ps.setString(1, JobStatus.COMPLETED.sql());
            ps.setArray(2, c.createArrayOf("real", boxed));
            ps.setLong(3, jobId);
            ps.setString(4, JobStatus.RUNNING.sql());
            ps.setString(5, KIND);
            return ps.executeUpdate() > 0;
        }
    }
}
