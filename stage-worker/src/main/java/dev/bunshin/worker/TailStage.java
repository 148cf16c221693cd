package dev.bunshin.worker;

import dev.bunshin.db.SqlArrays;
import dev.bunshin.engine.sample.Sampler;
import dev.bunshin.engine.sample.SamplingParams;
import dev.bunshin.engine.tokenizer.Tokenizer;
import dev.bunshin.protocol.ActivationRecord;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.logging.Logger;

/**
 * The last stage's job logic: sample, decode text, write tokens idempotently, end jobs, feed DECODEs back.
 *
 * <p>Sampling parameters, stop strings and stop tokens are read from the {@code jobs} row once per job and
 * cached (records stay small). The cache is rebuilt from the database whenever it is missing (new plan, worker
 * restart), so the database is the only truth: a job's tokens are {@code job_tokens} rows keyed by
 * (job_id, position), inserted with ON CONFLICT DO NOTHING, and a record whose token is already stored is stale.
 *
 * <p>Per batch, all token rows and job updates go in ONE transaction, and only then are the next records
 * produced. A job whose row is no longer 'running' (cancelled by the submitter, failed) is dropped: no DECODE,
 * a FREE instead so every stage drops its KV cache.
 */
final class TailStage {

    private static final Logger LOG = Logger.getLogger(TailStage.class.getName());
    /** llama.cpp's default penalty_last_n; the jobs table has no column for it. */
    private static final int REPEAT_LAST_N = 64;

    private final DataSource db;
    private final Tokenizer tokenizer;
    private final int contextLength;
    private final Map<Long, TailJob> jobs = new HashMap<>();

    TailStage(DataSource db, Tokenizer tokenizer, int contextLength) {
        this.db = db;
        this.tokenizer = tokenizer;
        this.contextLength = contextLength;
    }

    /** A sampling record's logits: F32 {@code [nVocab]} of its last position. */
    record Logits(ActivationRecord record, float[] logits) {
    }

    /** Samples every record, stores the results, and returns the records to send to stage 0 (in order). */
    List<ActivationRecord> onLogits(List<Logits> batch, int epoch) throws SQLException {
        List<ActivationRecord> out = new ArrayList<>();
        List<TailJob.Step> steps = new ArrayList<>();
        Map<Long, String> failures = new HashMap<>();
        try (Connection c = db.getConnection()) {
            for (Logits l : batch) {
                ActivationRecord r = l.record();
                TailJob job = jobs.get(r.jobId());
                if (job == null) job = load(c, r.jobId());
                if (job == null) {
                    out.add(ActivationRecord.free(r.jobId(), epoch)); // not running: every stage drops it
                    continue;
                }
                int g = r.pos() + r.nTokens() - job.promptLength; // index of the generated token these logits give
                if (g < job.next) {
                    // Already stored. If it is the newest token, its DECODE may never have been sent (the plan
                    // changed between the store and the send): send it again; stages drop duplicates by position.
                    if (g == job.next - 1) out.add(ActivationRecord.decode(job.id, epoch, job.promptLength + g, job.lastToken));
                    continue;
                }
                if (g > job.next) {
                    failures.put(job.id, "tail got logits for generated token " + g + " but expected " + job.next
                            + " (record " + r + ")");
                    continue;
                }
                steps.add(job.accept(job.sample(l.logits())));
            }
            c.setAutoCommit(false);
            try {
                boolean[] updated = store(c, steps);
                for (var f : failures.entrySet()) fail(c, f.getKey(), f.getValue());
                c.commit();
                for (int i = 0; i < steps.size(); i++) {
                    TailJob.Step s = steps.get(i);
                    TailJob job = jobs.get(s.jobId());
                    if (!updated[i] || s.ends()) {
                        jobs.remove(s.jobId());
                        out.add(ActivationRecord.free(s.jobId(), epoch));
                    } else {
                        out.add(ActivationRecord.decode(s.jobId(), epoch, job.promptLength + s.position(), s.token()));
                    }
                }
                for (long id : failures.keySet()) {
                    jobs.remove(id);
                    out.add(ActivationRecord.free(id, epoch));
                }
            } catch (SQLException e) {
                c.rollback();
                // The cached states advanced past what is stored: forget them, the next record reloads them.
                for (TailJob.Step s : steps) jobs.remove(s.jobId());
                throw e;
            }
        }
        return out;
    }

    /** Updates each job (only while 'running') and inserts the tokens of the jobs updated. */
    private static boolean[] store(Connection c, List<TailJob.Step> steps) throws SQLException {
        boolean[] updated = new boolean[steps.size()];
        if (steps.isEmpty()) return updated;
        try (PreparedStatement ps = c.prepareStatement("""
                UPDATE jobs SET token_count = ?, first_token_at = coalesce(first_token_at, now()),
                    status = coalesce(?, status), finish_reason = coalesce(?, finish_reason),
                    text = coalesce(?, text), finished_at = CASE WHEN ? THEN now() ELSE finished_at END
                WHERE id = ? AND status = 'running'""")) {
            for (TailJob.Step s : steps) {
                ps.setInt(1, s.position() + 1);
                ps.setString(2, s.ends() ? "completed" : null);
                ps.setString(3, s.finishReason());
                ps.setString(4, s.fullText());
                ps.setBoolean(5, s.ends());
                ps.setLong(6, s.jobId());
                ps.addBatch();
            }
            int[] counts = ps.executeBatch();
            for (int i = 0; i < counts.length; i++) updated[i] = counts[i] > 0;
        }
        try (PreparedStatement ps = c.prepareStatement("""
                INSERT INTO job_tokens (job_id, position, token_id, text) VALUES (?, ?, ?, ?)
                ON CONFLICT (job_id, position) DO NOTHING""")) {
            for (int i = 0; i < steps.size(); i++) {
                if (!updated[i]) continue;
                TailJob.Step s = steps.get(i);
                ps.setLong(1, s.jobId());
                ps.setInt(2, s.position());
                ps.setInt(3, s.token());
                ps.setString(4, s.text());
                ps.addBatch();
            }
            ps.executeBatch();
        }
        return updated;
    }

    /** Fails a job for bad data (its own fault, not the worker's); a no-op once the job is no longer running. */
    static void failJobRow(DataSource db, long jobId, String error) throws SQLException {
        try (Connection c = db.getConnection()) {
            fail(c, jobId, error);
        }
    }

    static void fail(Connection c, long jobId, String error) throws SQLException {
        LOG.warning("job " + jobId + " failed: " + error);
        try (PreparedStatement ps = c.prepareStatement("""
                UPDATE jobs SET status = 'failed', finish_reason = 'error', error = ?, finished_at = now()
                WHERE id = ? AND status IN ('queued', 'running')""")) {
            ps.setString(1, error);
            ps.setLong(2, jobId);
            ps.executeUpdate();
        }
    }

    void free(long jobId) {
        jobs.remove(jobId);
    }

    void clear() {
        jobs.clear();
    }

    int jobCount() {
        return jobs.size();
    }

    /** Builds the job's state from its row and stored tokens; null if the job is not running. */
    private TailJob load(Connection c, long id) throws SQLException {
        TailJob job;
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT prompt_tokens, max_tokens, temperature, top_k, top_p, min_p, repeat_penalty,
                       presence_penalty, frequency_penalty, seed, stop, stop_tokens, status
                FROM jobs WHERE id = ?""")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next() || !"running".equals(rs.getString(13))) return null;
                SamplingParams p = new SamplingParams(rs.getFloat(3), rs.getInt(4), rs.getFloat(5), rs.getFloat(6),
                        rs.getFloat(7), REPEAT_LAST_N, rs.getFloat(8), rs.getFloat(9), rs.getLong(10));
                Set<Integer> stopTokens = new HashSet<>();
                for (int t : SqlArrays.ints(rs.getArray(12))) stopTokens.add(t);
                List<String> stopStrings = List.of((String[]) rs.getArray(11).getArray());
                job = new TailJob(id, SqlArrays.ints(rs.getArray(1)), rs.getInt(2), contextLength, new Sampler(p), stopTokens,
                        stopStrings, tokenizer);
            }
        }
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT position, token_id FROM job_tokens WHERE job_id = ? ORDER BY position")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    if (rs.getInt(1) != job.next) {
                        throw new SQLException("job " + id + ": job_tokens has a gap at position " + job.next);
                    }
                    job.replay(rs.getInt(2));
                }
            }
        }
        jobs.put(id, job);
        return job;
    }
}
