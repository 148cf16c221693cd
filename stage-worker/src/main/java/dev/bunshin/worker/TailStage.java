package dev.bunshin.worker;

import dev.bunshin.db.JobEmbeddings;
import dev.bunshin.db.JobStatus;
import dev.bunshin.db.JobsTable;
import dev.bunshin.engine.EmbeddingPool;
import dev.bunshin.engine.Pooling;
import dev.bunshin.engine.sample.Sampler;
import dev.bunshin.engine.sample.SamplingParams;
import dev.bunshin.engine.sample.grammar.TokenConstraint;
import dev.bunshin.engine.sample.grammar.TokenConstraints;
import dev.bunshin.engine.tokenizer.Tokenizer;
import dev.bunshin.protocol.ActivationRecord;
import dev.bunshin.protocol.RecordType;
import dev.bunshin.protocol.events.EventPublisher;
import dev.bunshin.protocol.events.JobEvent;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.logging.Logger;

/**
 * The last stage's job logic: sample, decode text, write tokens idempotently, end jobs, feed DECODEs back.
 *
 * <p>Sampling parameters, stop strings and stop tokens are read from the {@code jobs} row once per job and
 * cached (records stay small). The cache is rebuilt from the database whenever it is missing (new plan, worker
 * restart), so the database is the only truth: a job's tokens are {@code job_tokens} rows keyed by
 * (job_id, position), inserted with ON CONFLICT DO NOTHING, and a record whose token is already stored is stale.
 *
 * <p>Per batch, all token rows and job updates go in ONE transaction (its job rows locked in id order, retried
 * through lost races and database outages). The next step's DECODEs go to stage 0 as soon as the tokens are
 * sampled, before that transaction, and the transaction runs on a thread of its own ({@link StoreQueue}, in batch
 * order, at most {@link #STORES_AHEAD} waiting): stage 0 starts the next step and this stage its next engine call
 * while the tail stores this one (a transaction is three round trips to the database: 3 ms here, 30 ms and more
 * for a tail 5 ms away from it). Why that is still exact: a token sent is the token stored, because the same
 * process writes exactly these tokens until they commit; a process that dies or closes before the commit takes its
 * plan with it (its restart is a new incarnation, so a new plan, under which the DECODE is dropped and the job
 * re-prefilled from what is stored); and a store commits only while the job is still under the plan that sampled
 * it ({@code plan_epoch}: a job re-prefilled under a newer plan meanwhile keeps what that re-prefill read). A client
 * sees a token only once it is committed. A job whose row is no longer 'running' (cancelled by the submitter,
 * failed) or no longer under this plan is dropped: a FREE right behind any DECODE sent, so every stage drops its KV
 * cache. The cached job states are shared by the two threads under this object's lock.
 *
 * <p>An embedding job ({@link JobEmbeddings#KIND}) is not sampled: the pooled part of each of its prefill chunks is
 * added to its {@link EmbeddingPool} in position order, and after the last chunk the pooled vector is stored and the
 * job completed (no tokens), in the same transaction as the batch's tokens. The pool is a cache too: a worker that
 * restarts, or any re-plan, makes the scheduler re-prefill the job from position 0 under a new plan, which rebuilds it.
 */
final class TailStage {

    private static final Logger LOG = Logger.getLogger(TailStage.class.getName());
    /** llama.cpp's default penalty_last_n; the jobs table has no column for it. */
    private static final int REPEAT_LAST_N = 64;

    private final DataSource db;
    private final Tokenizer tokenizer;
    private final int contextLength;
    private final Map<Long, TailJob> jobs = new HashMap<>();
    private final DatabaseRetry database;
    private final EventPublisher events;
    private final TailMetrics metrics;
    /** How this model's embeddings are pooled; null if it cannot give any (a reranker's "rank"). */
    private final Pooling pooling;
    private final int nEmbd;
    /** The vocabulary's trie and the compiled response formats, built once for this model. */
    private final TokenConstraints constraints;
    /** Batches whose transaction may wait behind the one running: how far sampling may run ahead of storing. */
    static final int STORES_AHEAD = 2;
    private final StoreQueue stores = new StoreQueue("bunshin-tail-store", STORES_AHEAD);
    /** Time spent storing (transactions, with any retries) since {@link #takeStoreNanos} was last called. */
    private final java.util.concurrent.atomic.AtomicLong storeNanos = new java.util.concurrent.atomic.AtomicLong();

    TailStage(DataSource db, DatabaseRetry database, EventPublisher events, Tokenizer tokenizer, int contextLength,
              TailMetrics metrics, Pooling pooling, int nEmbd) {
        this.pooling = pooling;
        this.nEmbd = nEmbd;
        this.db = db;
        this.metrics = metrics;
        this.database = database;
        this.events = events;
        this.tokenizer = tokenizer;
        this.contextLength = contextLength;
        this.constraints = new TokenConstraints(tokenizer);
    }

    /**
     * A record's result on the last stage: logits F32 {@code [nVocab]} of its last position, and its part of the
     * pooled hidden state F32 {@code [nEmbd]} (null from a backend without hidden states).
     */
    record Logits(ActivationRecord record, float[] logits, float[] pooled) {
        Logits(ActivationRecord record, float[] logits) {
            this(record, logits, null);
        }
    }

    /** An embedding job's pooled vector F32 {@code [nEmbd]} (not normalised), to store. */
    private record Embedded(long jobId, float[] vector) {
    }

    /**
     * What one batch of logits comes to: the tokens to store, the embeddings to store, the jobs to fail, the records
     * already decided.
     */
    private record Sampled(List<JobsTable.Token> steps, List<Embedded> embeddings, Map<Long, String> failures,
                           List<ActivationRecord> out) {
    }

    /** Where records decided after a batch's transaction go (FREEs of jobs it ended); called on the store's thread. */
    interface LateSender {
        void send(List<ActivationRecord> records) throws Exception;
    }

    /**
     * Samples every record and hands the results' store over to the store thread. The records that do not depend
     * on the store (the next steps' DECODEs, FREEs of jobs that ended or are no longer running) go to {@code early}
     * at once; those decided by the transaction (FREEs of jobs it ended or found no longer running) go to
     * {@code late} after it commits, from the store's thread.
     *
     * <p>Through a database outage or a lost race this retries ({@link DatabaseRetry}) rather than failing: the
     * reads until they succeed (sampling again gives the same tokens: a draw depends only on (seed, step)), then the
     * write of exactly these tokens until it commits. A token is stored once (keyed by position). An earlier
     * batch's store that failed is thrown here (the worker's failure); {@link InterruptedException} if the worker
     * closes meanwhile: its offsets are not committed, and its plan ends with it (see the class comment).
     */
    void onLogits(List<Logits> batch, int epoch, java.util.function.Consumer<List<ActivationRecord>> early,
                  LateSender late) throws Exception {
        stores.rethrow();
        Sampled s;
        List<ActivationRecord> first;
        synchronized (this) {
            s = database.untilDone("tail: read jobs", () -> sample(batch, epoch));
            first = new ArrayList<>(s.out());
            for (JobsTable.Token t : s.steps()) {
                if (t.ends()) continue;
                first.add(ActivationRecord.decode(t.jobId(), epoch, jobs.get(t.jobId()).promptLength + t.position(), t.tokenId()));
            }
        }
        early.accept(first);
        stores.submit(() -> store(s, epoch, late));
    }

    /** Waits until every batch handed over is stored (its late records sent); throws a store's failure. */
    void drain() throws Exception {
        stores.drain();
    }

    /** On the store's thread: one batch's transaction, then its announcements and its late records. */
    private void store(Sampled s, int epoch, LateSender late) throws Exception {
        boolean[] updated;
        long t0 = System.nanoTime();
        try {
            updated = database.untilDone("tail: store " + s.steps().size() + " token(s), " + s.embeddings().size()
                    + " embedding(s)", () -> store(s, epoch));
        } catch (SQLException | InterruptedException e) {
            // The cached states advanced past what is stored: forget them, the next record reloads them.
            synchronized (this) {
                for (JobsTable.Token t : s.steps()) jobs.remove(t.jobId());
            }
            throw e;
        } finally {
            storeNanos.addAndGet(System.nanoTime() - t0);
        }
        announce(s, updated);
        List<ActivationRecord> out = new ArrayList<>();
        synchronized (this) {
            for (int i = 0; i < s.steps().size(); i++) {
                JobsTable.Token t = s.steps().get(i);
                TailJob job = jobs.get(t.jobId());
                if (updated[i] && job != null) metrics.committed(job.clock, t);
                if (!updated[i] || t.ends()) {
                    // Ended here, or no longer running (its DECODE went out already: the FREE follows it round).
                    jobs.remove(t.jobId());
                    out.add(ActivationRecord.free(t.jobId(), epoch));
                }
            }
            for (Embedded e : s.embeddings()) {
                jobs.remove(e.jobId());
                out.add(ActivationRecord.free(e.jobId(), epoch));
            }
            for (long id : s.failures().keySet()) {
                jobs.remove(id);
                out.add(ActivationRecord.free(id, epoch));
            }
        }
        if (!out.isEmpty()) late.send(out);
    }

    /**
     * Publishes what the transaction just committed: per job, its new tokens in position order and its status after
     * them (a job a batch ends is {@code completed}); per failed job, {@code failed}. Jobs no longer running got
     * nothing stored and are not announced (whoever ended them announced it).
     */
    private void announce(Sampled s, boolean[] updated) {
        Map<Long, List<JobEvent.Token>> tokens = new TreeMap<>();
        Map<Long, String> ends = new HashMap<>();
        for (int i = 0; i < s.steps().size(); i++) {
            if (!updated[i]) continue;
            JobsTable.Token t = s.steps().get(i);
            tokens.computeIfAbsent(t.jobId(), k -> new ArrayList<>())
                    .add(new JobEvent.Token(t.position(), t.tokenId(), t.text(), t.logprobs() == null ? null
                            : new JobEvent.Logprobs(t.logprobs().logprob(), t.logprobs().topIds(),
                            t.logprobs().topLogprobs())));
            if (t.ends()) ends.put(t.jobId(), t.finishReason());
        }
        List<JobEvent> out = new ArrayList<>(tokens.size() + s.failures().size());
        for (var e : tokens.entrySet()) {
            List<JobEvent.Token> list = e.getValue();
            list.sort(java.util.Comparator.comparingInt(JobEvent.Token::position));
            boolean ended = ends.containsKey(e.getKey());
            out.add(new JobEvent(e.getKey(), ended ? JobStatus.COMPLETED.sql() : JobStatus.RUNNING.sql(),
                    ends.get(e.getKey()), list));
        }
        for (int k = 0; k < s.embeddings().size(); k++) {
            if (updated[s.steps().size() + k]) {
                out.add(new JobEvent(s.embeddings().get(k).jobId(), JobStatus.COMPLETED.sql(), "stop", List.of()));
            }
        }
        for (long id : s.failures().keySet()) out.add(JobEvent.status(id, JobStatus.FAILED.sql()));
        events.publishAll(out);
    }

    /**
     * Samples the batch; on failure, no cached state has moved. The states of jobs not cached are loaded first, all
     * of them, and only then is anything sampled: a read that fails half way through the batch (the database went
     * away) must not find jobs already stepped, because their newest tokens may still be waiting on the store thread
     * and reloading them from the database would lose those tokens.
     */
    private Sampled sample(List<Logits> batch, int epoch) throws SQLException {
        Map<Long, String> failures = new HashMap<>();
        Set<Long> notRunning = load(batch, failures);
        List<ActivationRecord> out = new ArrayList<>();
        List<JobsTable.Token> steps = new ArrayList<>();
        List<Embedded> embeddings = new ArrayList<>();
        try {
            for (Logits l : batch) {
                ActivationRecord r = l.record();
                if (failures.containsKey(r.jobId())) continue;
                TailJob job = jobs.get(r.jobId());
                if (job == null) {
                    // Not running: every stage drops it (told once, after its last chunk).
                    if (notRunning.contains(r.jobId()) && r.samples()) out.add(ActivationRecord.free(r.jobId(), epoch));
                    continue;
                }
                if (job.embedding != null) {
                    pool(job, l, embeddings, failures);
                    continue;
                }
                if (!r.samples()) continue; // a prefill chunk before the last: nothing to sample yet
                int g = r.pos() + r.nTokens() - job.promptLength; // index of the generated token these logits give
                if (g < job.next) {
                    // Already stored. If it is the newest token, its DECODE may never have been sent (the plan
                    // changed between the store and the send): send it again; stages drop duplicates by position.
                    // Not once it ended: its store removes it, and the job has no next step.
                    if (g == job.next - 1 && !job.ended) out.add(ActivationRecord.decode(job.id, epoch, job.promptLength + g, job.lastToken));
                    continue;
                }
                if (g > job.next) {
                    failures.put(job.id, "tail got logits for generated token " + g + " but expected " + job.next
                            + " (record " + r + ")");
                    continue;
                }
                try {
                    JobsTable.Token t = job.step(l.logits());
                    steps.add(t);
                    job.ended = t.ends();
                } catch (IllegalStateException e) { // its response format allows nothing: fail it, not the batch
                    failures.put(job.id, e.getMessage());
                }
            }
        } catch (RuntimeException e) {
            for (JobsTable.Token t : steps) jobs.remove(t.jobId());
            throw e;
        }
        return new Sampled(steps, embeddings, failures, out);
    }

    /**
     * Loads the state of every job of the batch not cached (one connection, none if all are cached). Returns the
     * jobs found not running; puts a job whose row cannot be loaded into {@code failures}. A failed read leaves the
     * states loaded so far cached: they are exactly what is stored.
     */
    private Set<Long> load(List<Logits> batch, Map<Long, String> failures) throws SQLException {
        Set<Long> missing = new TreeSet<>();
        for (Logits l : batch) {
            if (!jobs.containsKey(l.record().jobId())) missing.add(l.record().jobId());
        }
        if (missing.isEmpty()) return Set.of();
        Set<Long> notRunning = new HashSet<>();
        try (Connection c = db.getConnection()) {
            for (long id : missing) {
                try {
                    if (load(c, id) == null) notRunning.add(id);
                } catch (IllegalArgumentException e) { // a response format it cannot honour, or stored tokens it refuses
                    failures.put(id, "cannot load job: " + e.getMessage());
                }
            }
        }
        return notRunning;
    }

    /**
     * Adds a chunk of an embedding job to its pool; after the last chunk, the pooled vector is the job's result.
     * Idempotent (a chunk already pooled is skipped), so a retried {@link #sample} adds nothing twice.
     */
    private void pool(TailJob job, Logits l, List<Embedded> embeddings, Map<Long, String> failures) {
        ActivationRecord r = l.record();
        if (l.pooled() == null && !(pooling == Pooling.CLS && r.pos() > 0)) {
            failures.put(job.id, "embeddings need the final hidden states, which this model's last stage does not give"
                    + (pooling == null ? " (pooling type not supported)" : " (llama.cpp's graph for this architecture "
                    + "gives no result_norm rows: run the last stage on the java backend)"));
            return;
        }
        EmbeddingPool p = job.embedding;
        if (r.pos() + r.nTokens() > p.length()) {
            try {
                p.add(r.pos(), r.nTokens(), l.pooled());
            } catch (IllegalArgumentException e) {
                failures.put(job.id, "tail lost the pooled embedding of job " + job.id + ": " + e.getMessage());
                return;
            }
        }
        if (!r.samples()) return;
        if (p.length() != job.promptLength) {
            failures.put(job.id, "tail pooled " + p.length() + " of the " + job.promptLength + " prompt positions of job "
                    + job.id + " by its last chunk (record " + r + ")");
            return;
        }
        embeddings.add(new Embedded(job.id, p.pooled()));
    }

    /**
     * One transaction: every job row it changes is locked first, in id order (the lock order of
     * {@link JobsTable}), then the tokens are written and the failed jobs failed. A batch cancel locks in the same
     * order, so the two wait for each other but never deadlock.
     */
    private boolean[] store(Sampled s, int epoch) throws SQLException {
        Set<Long> ids = new TreeSet<>(s.failures().keySet());
        for (JobsTable.Token t : s.steps()) ids.add(t.jobId());
        for (Embedded e : s.embeddings()) ids.add(e.jobId());
        try (Connection c = db.getConnection()) {
            c.setAutoCommit(false);
            try {
                JobsTable.lockInIdOrder(c, ids);
                boolean[] tokens = JobsTable.appendTokens(c, s.steps(), epoch);
                // Per token, then per embedding: whether its job was running and the result stored.
                boolean[] updated = java.util.Arrays.copyOf(tokens, tokens.length + s.embeddings().size());
                for (int k = 0; k < s.embeddings().size(); k++) {
                    Embedded e = s.embeddings().get(k);
                    updated[tokens.length + k] = JobEmbeddings.complete(c, e.jobId(), e.vector());
                }
                for (var f : new TreeMap<>(s.failures()).entrySet()) fail(c, f.getKey(), f.getValue());
                c.commit();
                return updated;
            } catch (SQLException | RuntimeException e) {
                try {
                    c.rollback();
                } catch (SQLException rollback) {
                    e.addSuppressed(rollback); // the connection is gone: so is the transaction
                }
                throw e;
            }
        }
    }

    /**
     * Fails a job for bad data (its own fault, not the worker's); a no-op once the job is no longer running.
     * Returns whether it failed it.
     */
    static boolean failJobRow(DataSource db, long jobId, String error) throws SQLException {
        try (Connection c = db.getConnection()) {
            return fail(c, jobId, error);
        }
    }

    private static boolean fail(Connection c, long jobId, String error) throws SQLException {
        LOG.warning("job " + jobId + " failed: " + error);
        return JobsTable.fail(c, jobId, error);
    }

    /** Time spent storing since the last call (on the store's thread, beside the engine's). */
    long takeStoreNanos() {
        return storeNanos.getAndSet(0);
    }

    synchronized void free(long jobId) {
        jobs.remove(jobId);
    }

    /**
     * Ends this tail (a new plan, or the worker closing): the batches handed over get {@code graceMillis} to be
     * stored, then the store thread stops; the cached job states are dropped.
     */
    void close(long graceMillis) {
        stores.close(graceMillis);
        synchronized (this) {
            jobs.clear();
        }
    }

    /**
     * The jobs of these records that are embedding jobs, whose prompt chunks the engine must pool (the llama.cpp
     * backend gives a pooled part only when asked). A prompt chunk of a job not yet known here loads it now instead
     * of at sampling; if the database cannot be read, such jobs are all asked for, which costs only engine time.
     */
    Set<Long> embeddingJobs(List<ActivationRecord> recs) {
        Set<Long> out = new HashSet<>();
        List<Long> unknown = new ArrayList<>();
        synchronized (this) {
            for (ActivationRecord r : recs) {
                if (r.type() != RecordType.PREFILL) continue;
                TailJob job = jobs.get(r.jobId());
                if (job == null) unknown.add(r.jobId());
                else if (job.embedding != null) out.add(r.jobId());
            }
            if (unknown.isEmpty()) return out;
            try (Connection c = db.getConnection()) {
                for (long id : unknown) {
                    try {
                        TailJob job = load(c, id);
                        if (job != null && job.embedding != null) out.add(id);
                    } catch (IllegalArgumentException e) {
                        // fails the job at sampling, where the load is tried again
                    }
                }
            } catch (SQLException e) {
                LOG.fine("tail: jobs " + unknown + " not loaded before the engine call (" + e + "): all pooled");
                out.addAll(unknown);
            }
        }
        return out;
    }

    /** Builds the job's state from its row and stored tokens; null if the job is not running. */
    private TailJob load(Connection c, long id) throws SQLException {
        JobsTable.Sampling row = JobsTable.runningSampling(c, id);
        if (row == null) return null;
        SamplingParams p = new SamplingParams(row.temperature(), row.topK(), row.topP(), row.minP(),
                row.repeatPenalty(), REPEAT_LAST_N, row.presencePenalty(), row.frequencyPenalty(), row.seed());
        Set<Integer> stopTokens = new HashSet<>();
        for (int t : row.stopTokens()) stopTokens.add(t);
        TokenConstraint constraint = row.responseFormat() == null ? null
                : constraints.forJob(row.responseFormat(), row.stopTokens());
        TailJob job = new TailJob(id, row.promptTokens(), row.maxTokens(), contextLength, new Sampler(p), stopTokens,
                row.stop(), tokenizer, row.logprobs(), constraint);
        job.clock.created(row.ageSeconds());
        if (row.embedding()) job.embedding = new EmbeddingPool(pooling == null ? Pooling.MEAN : pooling, nEmbd);
        for (int token : JobsTable.generatedTokens(c, id)) job.replay(token);
        jobs.put(id, job);
        return job;
    }
}
