package dev.bunshin.e2e;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** What the submitter does (insert queued jobs, cancel) and reads (job rows, job_tokens), in SQL. */
final class Jobs {

    record Row(long id, String status, String finishReason, String error, int tokenCount, String text,
               boolean started, boolean firstToken, boolean finished) {
    }

    record Token(int position, int tokenId, String text) {
    }

    /** A token's logprobs as the tail stored them (V20). */
    record Logprobs(int tokenId, float logprob, int[] topIds, float[] topLogprobs) {
    }

    private final DataSource db;

    Jobs(DataSource db) {
        this.db = db;
    }

    long insert(String model, String prompt, int[] promptTokens, int maxTokens) throws SQLException {
        return insert(model, prompt, promptTokens, maxTokens, new String[0]);
    }

    long insert(String model, String prompt, int[] promptTokens, int maxTokens, String[] stop) throws SQLException {
        return insert(model, prompt, promptTokens, maxTokens, stop, new int[0]);
    }

    long insert(String model, String prompt, int[] promptTokens, int maxTokens, String[] stop, int[] stopTokens)
            throws SQLException {
        return insert(model, prompt, promptTokens, maxTokens, stop, stopTokens, null);
    }

    /** @param logprobs how many alternatives per token to store logprobs for; null: none */
    long insert(String model, String prompt, int[] promptTokens, int maxTokens, String[] stop, int[] stopTokens,
                Integer logprobs) throws SQLException {
        return insert(model, prompt, promptTokens, maxTokens, stop, stopTokens, logprobs, null);
    }

    /** @param responseFormat the document the output must be (jobs.response_format as JSON); null: free text */
    long insert(String model, String prompt, int[] promptTokens, int maxTokens, String[] stop, int[] stopTokens,
                Integer logprobs, String responseFormat) throws SQLException {
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(
                "INSERT INTO jobs (model, prompt, prompt_tokens, max_tokens, stop, stop_tokens, logprobs, response_format) "
                + "VALUES (?, ?, ?, ?, ?, ?, ?, ?::json) RETURNING id")) {
            Integer[] boxed = new Integer[promptTokens.length];
            for (int i = 0; i < boxed.length; i++) boxed[i] = promptTokens[i];
            ps.setString(1, model);
            ps.setString(2, prompt);
            ps.setArray(3, c.createArrayOf("integer", boxed));
            ps.setInt(4, maxTokens);
            ps.setArray(5, c.createArrayOf("text", stop));
            Integer[] stops = new Integer[stopTokens.length];
            for (int i = 0; i < stops.length; i++) stops[i] = stopTokens[i];
            ps.setArray(6, c.createArrayOf("integer", stops));
            ps.setObject(7, logprobs, java.sql.Types.INTEGER);
            ps.setString(8, responseFormat);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /** The job's tokens' logprobs in position order (null entries for tokens without). */
    List<Logprobs> logprobs(long id) throws SQLException {
        List<Logprobs> out = new ArrayList<>();
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement("""
                SELECT token_id, logprob, top_ids, top_logprobs FROM job_tokens WHERE job_id = ? ORDER BY position""")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    float lp = rs.getFloat(2);
                    out.add(rs.wasNull() ? null : new Logprobs(rs.getInt(1), lp,
                            dev.bunshin.db.SqlArrays.ints(rs.getArray(3)), dev.bunshin.db.SqlArrays.floats(rs.getArray(4))));
                }
            }
        }
        return out;
    }

    void cancel(long id) throws SQLException {
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement("""
                UPDATE jobs SET status = 'cancelled', finish_reason = 'cancelled', finished_at = now()
                WHERE id = ? AND status IN ('queued', 'running')""")) {
            ps.setLong(1, id);
            ps.executeUpdate();
        }
    }

    Row row(long id) throws SQLException {
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement("""
                SELECT status, finish_reason, error, token_count, text, started_at IS NOT NULL,
                       first_token_at IS NOT NULL, finished_at IS NOT NULL FROM jobs WHERE id = ?""")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return new Row(id, rs.getString(1), rs.getString(2), rs.getString(3), rs.getInt(4), rs.getString(5),
                        rs.getBoolean(6), rs.getBoolean(7), rs.getBoolean(8));
            }
        }
    }

    List<Token> tokens(long id) throws SQLException {
        List<Token> out = new ArrayList<>();
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT position, token_id, text FROM job_tokens WHERE job_id = ? ORDER BY position")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.add(new Token(rs.getInt(1), rs.getInt(2), rs.getString(3)));
            }
        }
        return out;
    }

    /** Waits until every job is completed, failed or cancelled. */
    List<Row> awaitDone(List<Long> ids, Duration timeout) throws Exception {
        long end = System.nanoTime() + timeout.toNanos();
        while (true) {
            List<Row> rows = new ArrayList<>();
            boolean all = true;
            for (long id : ids) {
                Row r = row(id);
                rows.add(r);
                all &= !r.status().equals("queued") && !r.status().equals("running");
            }
            if (all) return rows;
            if (System.nanoTime() > end) throw new AssertionError("jobs not done within " + timeout + ": " + rows);
            Thread.sleep(50);
        }
    }

    /** Waits until the job has at least {@code n} tokens. */
    void awaitTokens(long id, int n, Duration timeout) throws Exception {
        long end = System.nanoTime() + timeout.toNanos();
        while (row(id).tokenCount() < n) {
            if (System.nanoTime() > end) throw new AssertionError("job " + id + " has fewer than " + n + " tokens: " + row(id));
            Thread.sleep(10);
        }
    }
}
