package dev.bunshin.worker;

import dev.bunshin.db.JobsTable;
import dev.bunshin.engine.sample.Sampler;
import dev.bunshin.engine.sample.SamplingParams;
import dev.bunshin.engine.tokenizer.Tokenizer;
import dev.bunshin.protocol.ActivationRecord;

import javax.sql.DataSource;
import java.sql.Connection;
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
        List<JobsTable.Token> steps = new ArrayList<>();
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
                boolean[] updated = JobsTable.appendTokens(c, steps);
                for (var f : failures.entrySet()) fail(c, f.getKey(), f.getValue());
                c.commit();
                for (int i = 0; i < steps.size(); i++) {
                    JobsTable.Token s = steps.get(i);
                    TailJob job = jobs.get(s.jobId());
                    if (!updated[i] || s.ends()) {
                        jobs.remove(s.jobId());
                        out.add(ActivationRecord.free(s.jobId(), epoch));
                    } else {
                        out.add(ActivationRecord.decode(s.jobId(), epoch, job.promptLength + s.position(), s.tokenId()));
                    }
                }
                for (long id : failures.keySet()) {
                    jobs.remove(id);
                    out.add(ActivationRecord.free(id, epoch));
                }
            } catch (SQLException e) {
                c.rollback();
                // The cached states advanced past what is stored: forget them, the next record reloads them.
                for (JobsTable.Token s : steps) jobs.remove(s.jobId());
                throw e;
            }
        }
        return out;
    }

    /** Fails a job for bad data (its own fault, not the worker's); a no-op once the job is no longer running. */
    static void failJobRow(DataSource db, long jobId, String error) throws SQLException {
        try (Connection c = db.getConnection()) {
            fail(c, jobId, error);
        }
    }

    private static void fail(Connection c, long jobId, String error) throws SQLException {
        LOG.warning("job " + jobId + " failed: " + error);
        JobsTable.fail(c, jobId, error);
    }

    void free(long jobId) {
        jobs.remove(jobId);
    }

    void clear() {
        jobs.clear();
    }

    /** Builds the job's state from its row and stored tokens; null if the job is not running. */
    private TailJob load(Connection c, long id) throws SQLException {
        JobsTable.Sampling row = JobsTable.runningSampling(c, id);
        if (row == null) return null;
        SamplingParams p = new SamplingParams(row.temperature(), row.topK(), row.topP(), row.minP(),
                row.repeatPenalty(), REPEAT_LAST_N, row.presencePenalty(), row.frequencyPenalty(), row.seed());
        Set<Integer> stopTokens = new HashSet<>();
        for (int t : row.stopTokens()) stopTokens.add(t);
        TailJob job = new TailJob(id, row.promptTokens(), row.maxTokens(), contextLength, new Sampler(p), stopTokens,
                row.stop(), tokenizer);
        for (int token : JobsTable.generatedTokens(c, id)) job.replay(token);
        jobs.put(id, job);
        return job;
    }
}
