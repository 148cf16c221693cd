package dev.bunshin.db;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Every state change of a job and every token written: the {@code jobs} and {@code job_tokens} tables
 * (db/migrations/V2) as the submitter, the scheduler and the tail stage worker change them. Each method runs in the
 * caller's connection (and transaction). Every change is a single conditional UPDATE on the status it expects, so
 * two services racing on one job (a cancel and the tail's last token) cannot overwrite each other: the second one
 * changes nothing and says so.
 *
 * <p>Lock order: every method that changes several job rows in one transaction locks them in ascending id order
 * (it sorts what it is given, or locks with {@code ORDER BY id FOR UPDATE} before it updates). Two such
 * transactions can then wait for each other but never in a cycle, so PostgreSQL never has to break a deadlock
 * between a batch cancel and the tail's token writes.
 */
public final class JobsTable {

    private JobsTable() {}

    /** A job the scheduler is about to (re-)prefill: its id and every token to feed (prompt, then generated). */
    public record Prefill(long id, int[] tokens) {
    }

    /**
     * What the tail needs of a running job's row to sample it (the request's sampling fields).
     *
     * @param stop       stop strings; generation ends before them
     * @param stopTokens extra token ids that end generation (chat end-of-turn)
     * @param ageSeconds seconds since the job was created when the row was read, on the database's clock (so a
     *                   worker on another machine can time the job without trusting its own clock against it)
     * @param logprobs   how many alternatives per token the job wants logprobs for (0..20), or -1: no logprobs
     * @param embedding  whether the job is an embedding job ({@link JobEmbeddings#KIND}): pooled, not sampled
     * @param responseFormat the document its output must be (V21, JSON text of the engine's
     *                   {@code ResponseFormat}), or null: free text
     */
    public record Sampling(long id, int[] promptTokens, int maxTokens, float temperature, int topK, float topP,
                           float minP, float repeatPenalty, float presencePenalty, float frequencyPenalty, long seed,
                           List<String> stop, int[] stopTokens, double ageSeconds, int logprobs, boolean embedding,
                           String responseFormat) {
    }

    /**
     * A token's log-probability and its top alternatives (V20), for a job that asked for them.
     *
     * @param topIds      the most likely tokens, most likely first // [k]
     * @param topLogprobs their log-probabilities // [k]
     */
    public record Logprobs(float logprob, int[] topIds, float[] topLogprobs) {
        public Logprobs {
            if (topIds.length != topLogprobs.length) {
                throw new IllegalArgumentException(topIds.length + " top ids but " + topLogprobs.length + " logprobs");
            }
        }
    }

    /**
     * One generated token as the tail writes it.
     *
     * @param position     counts generated tokens from 0
     * @param text         the text this token releases (complete UTF-8, stop strings held back)
     * @param finishReason null, or how the job ends with this token ({@code stop}, {@code length})
     * @param finalText    the job's whole output when it ends with this token, else null
     * @param logprobs     its logprobs if the job asked for them, else null
     */
    public record Token(long jobId, int position, int tokenId, String text, String finishReason, String finalText,
                        Logprobs logprobs) {
        /** A token without logprobs. */
        public Token(long jobId, int position, int tokenId, String text, String finishReason, String finalText) {
            this(jobId, position, tokenId, text, finishReason, finalText, null);
        }

        public boolean ends() {
            return finishReason != null;
        }
    }

    /** How many of {@code model}'s jobs are running. */
    public static int countRunning(Connection c, String model) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM jobs WHERE model = ? AND status = ?")) {
            ps.setString(1, model);
            ps.setString(2, JobStatus.RUNNING.sql());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    /**
     * Locks up to {@code limit} queued jobs of {@code model} for the caller's transaction, in the order they should
     * run. SKIP LOCKED: a second scheduler (or a slow submitter transaction) never blocks this one.
     *
     * <p>The order (issue 10): interactive jobs (no batch) before batch jobs, so a batch fills idle capacity and
     * never makes a person wait; within each class, round-robin across owners (API keys), so one tenant's 100k-line
     * batch cannot starve another's. An owner's turn for its k-th oldest queued job is k plus the jobs it already
     * has running, so fairness holds across calls too (a scheduler that takes one job at a time alternates). Ties
     * go to the older job. In open mode (no owners) this is oldest first within each class.
     *
     * <p>Cost: a skip scan over the (class, owner) pairs with queued jobs (index jobs_queued_fair, V16), then at most
     * {@code limit} rows per pair: independent of how many jobs are queued.
     */
    public static List<Prefill> lockQueued(Connection c, String model, int limit) throws SQLException {
        return lockQueued(c, model, limit, limit);
    }

    /**
     * {@link #lockQueued(Connection, String, int)} taking at most {@code batchLimit} batch jobs: the places above it
     * stay for interactive jobs (the scheduler's interactive reserve).
     */
    public static List<Prefill> lockQueued(Connection c, String model, int limit, int batchLimit) throws SQLException {
        List<Prefill> out = new ArrayList<>();
        int batches = 0;
        // The status literal (not a parameter) lets the planner use the partial index in a generic plan too.
        String queued = "status = '" + JobStatus.QUEUED.sql() + "'";
        try (PreparedStatement ps = c.prepareStatement("""
                WITH RECURSIVE
                owners AS (
                    (SELECT batch_id IS NOT NULL AS batch, coalesce(owner, '') AS owner FROM jobs
                      WHERE model = ? AND %1$s ORDER BY 1, 2 LIMIT 1)
                    UNION ALL
                    SELECT n.batch, n.owner FROM owners o, LATERAL (
                        SELECT batch_id IS NOT NULL AS batch, coalesce(owner, '') AS owner FROM jobs
                         WHERE model = ? AND %1$s
                           AND (batch_id IS NOT NULL, coalesce(owner, '')) > (o.batch, o.owner)
                         ORDER BY 1, 2 LIMIT 1) n
                ),
                running AS (
                    SELECT coalesce(owner, '') AS owner, count(*) AS n FROM jobs
                     WHERE model = ? AND status = ? GROUP BY 1
                ),
                candidates AS (
                    SELECT q.id, o.batch,
                           coalesce(r.n, 0) + row_number() OVER (PARTITION BY o.batch, o.owner ORDER BY q.id) AS turn
                      FROM owners o
                      LEFT JOIN running r ON r.owner = o.owner
                      CROSS JOIN LATERAL (
                          SELECT id FROM jobs
                           WHERE model = ? AND %1$s AND (batch_id IS NOT NULL) = o.batch AND coalesce(owner, '') = o.owner
                           ORDER BY id LIMIT ?) q
                )
                SELECT j.id, j.prompt_tokens, k.batch FROM jobs j JOIN candidates k ON k.id = j.id
                 WHERE j.%1$s AND (NOT k.batch OR ? > 0)
                 ORDER BY k.batch, k.turn, j.id
                 LIMIT ? FOR UPDATE OF j SKIP LOCKED""".formatted(queued))) {
            ps.setString(1, model);
            ps.setString(2, model);
            ps.setString(3, model);
            ps.setString(4, JobStatus.RUNNING.sql());
            ps.setString(5, model);
            ps.setInt(6, limit);
            ps.setInt(7, batchLimit);
            ps.setInt(8, limit);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    // Interactive rows come first: past the batch limit, the rest are batch rows (locked, left queued).
                    if (rs.getBoolean("batch") && batches++ >= batchLimit) break;
                    out.add(new Prefill(rs.getLong("id"), SqlArrays.ints(rs.getArray("prompt_tokens"))));
                }
            }
        }
        return out;
    }

    /**
     * Locks the running jobs of {@code model} last prefilled under a plan older than {@code epoch}, each with its
     * prompt followed by the tokens generated so far: what a re-prefill feeds.
     */
    public static List<Prefill> lockRunningBefore(Connection c, String model, int epoch) throws SQLException {
        List<Prefill> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT j.id, j.prompt_tokens,
                       coalesce((SELECT array_agg(t.token_id ORDER BY t.position) FROM job_tokens t
                                 WHERE t.job_id = j.id), '{}') AS generated
                FROM jobs j WHERE j.model = ? AND j.status = ? AND j.plan_epoch < ?
                ORDER BY j.id FOR UPDATE OF j SKIP LOCKED""")) {
            ps.setString(1, model);
            ps.setString(2, JobStatus.RUNNING.sql());
            ps.setInt(3, epoch);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    int[] prompt = SqlArrays.ints(rs.getArray("prompt_tokens"));
                    int[] generated = SqlArrays.ints(rs.getArray("generated"));
                    int[] all = Arrays.copyOf(prompt, prompt.length + generated.length);
                    System.arraycopy(generated, 0, all, prompt.length, generated.length);
                    out.add(new Prefill(rs.getLong("id"), all));
                }
            }
        }
        return out;
    }

    /** Queued → running under plan {@code epoch}; the scheduler commits this before producing the prefill. */
    public static void start(Connection c, List<Long> ids, int epoch) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "UPDATE jobs SET status = ?, started_at = now(), plan_epoch = ? WHERE id = ? AND status = ?")) {
            for (long id : ascending(ids)) {
                ps.setString(1, JobStatus.RUNNING.sql());
                ps.setInt(2, epoch);
                ps.setLong(3, id);
                ps.setString(4, JobStatus.QUEUED.sql());
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    /** Records that running jobs were re-prefilled under plan {@code epoch}. */
    public static void setPlanEpoch(Connection c, List<Long> ids, int epoch) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE jobs SET plan_epoch = ? WHERE id = ?")) {
            for (long id : ascending(ids)) {
                ps.setInt(1, epoch);
                ps.setLong(2, id);
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    /**
     * Fails a queued or running job with {@code error} (for its own bad data or an undeliverable record, never for a
     * worker's fault). Returns false, changing nothing, when the job has already ended.
     */
    public static boolean fail(Connection c, long jobId, String error) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                UPDATE jobs SET status = ?, finish_reason = 'error', error = ?, finished_at = now()
                WHERE id = ? AND status IN (?, ?)""")) {
            ps.setString(1, JobStatus.FAILED.sql());
            ps.setString(2, error);
            ps.setLong(3, jobId);
            ps.setString(4, JobStatus.QUEUED.sql());
            ps.setString(5, JobStatus.RUNNING.sql());
            return ps.executeUpdate() > 0;
        }
    }

    /** Cancels a queued or running job; its text becomes what was generated so far. False if it had ended. */
    public static boolean cancel(Connection c, long jobId) throws SQLException {
        return endWithStoredText(c, "id = ?", jobId, JobStatus.CANCELLED, "cancelled") > 0;
    }

    /**
     * Cancels every queued or running job of a batch; returns how many. The rows are locked in id order first (the
     * UPDATE alone would lock them in whatever order its scan meets them), so this never deadlocks with the tail's
     * {@link #appendTokens}; run it in a transaction of its own, and run it again on a serialization failure
     * ({@link SqlRetry}), as for any transaction.
     */
    public static int cancelBatch(Connection c, String batchId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT id FROM jobs WHERE batch_id = ? AND status IN (?, ?) ORDER BY id FOR UPDATE""")) {
            ps.setString(1, batchId);
            ps.setString(2, JobStatus.QUEUED.sql());
            ps.setString(3, JobStatus.RUNNING.sql());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    // locking is the point: the rows are updated below, in one statement
                }
            }
        }
        return endWithStoredText(c, "batch_id = ?", batchId, JobStatus.CANCELLED, "cancelled");
    }

    /**
     * Completes a running job with the tokens already stored as its text. The tail ends jobs with their last token
     * ({@link #appendTokens}); this is for tools and tests that play the pipeline without one.
     */
    public static boolean complete(Connection c, long jobId, String finishReason) throws SQLException {
        return endWithStoredText(c, "id = ?", jobId, JobStatus.COMPLETED, finishReason) > 0;
    }

    private static int endWithStoredText(Connection c, String where, Object key, JobStatus status, String finishReason)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                UPDATE jobs SET status = ?, finish_reason = ?, finished_at = now(),
                       text = (SELECT coalesce(string_agg(t.text, '' ORDER BY t.position), '')
                                 FROM job_tokens t WHERE t.job_id = jobs.id),
                       token_count = (SELECT count(*) FROM job_tokens t WHERE t.job_id = jobs.id)
                 WHERE %s AND status IN (?, ?)""".formatted(where))) {
            ps.setString(1, status.sql());
            ps.setString(2, finishReason);
            ps.setObject(3, key);
            // A job completes only from running; a cancel also takes a queued one.
            ps.setString(4, status == JobStatus.COMPLETED ? JobStatus.RUNNING.sql() : JobStatus.QUEUED.sql());
            ps.setString(5, JobStatus.RUNNING.sql());
            return ps.executeUpdate();
        }
    }

    /**
     * How many of {@code model}'s jobs are in each status; every status is present (0 when none). One scan of the
     * model's rows: for gauges read at most every few seconds, not for the hot path.
     */
    public static Map<JobStatus, Long> countByStatus(Connection c, String model) throws SQLException {
        Map<JobStatus, Long> out = new EnumMap<>(JobStatus.class);
        for (JobStatus s : JobStatus.values()) out.put(s, 0L);
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT status, count(*) FROM jobs WHERE model = ? GROUP BY status")) {
            ps.setString(1, model);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.put(JobStatus.of(rs.getString(1)), rs.getLong(2));
            }
        }
        return out;
    }

    /** The sampling fields of a running job; null if the job does not exist or is not running. */
    public static Sampling runningSampling(Connection c, long jobId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT prompt_tokens, max_tokens, temperature, top_k, top_p, min_p, repeat_penalty,
                       presence_penalty, frequency_penalty, seed, stop, stop_tokens,
                       extract(epoch FROM clock_timestamp() - created_at) AS age, coalesce(logprobs, -1) AS logprobs,
                       kind = '%s' AS embedding, response_format::text AS response_format
                FROM jobs WHERE id = ? AND status = ?""".formatted(JobEmbeddings.KIND))) {
            ps.setLong(1, jobId);
            ps.setString(2, JobStatus.RUNNING.sql());
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) return null;
                return new Sampling(jobId, SqlArrays.ints(rs.getArray("prompt_tokens")), rs.getInt("max_tokens"),
                        rs.getFloat("temperature"), rs.getInt("top_k"), rs.getFloat("top_p"), rs.getFloat("min_p"),
                        rs.getFloat("repeat_penalty"), rs.getFloat("presence_penalty"),
                        rs.getFloat("frequency_penalty"), rs.getLong("seed"),
                        List.of((String[]) rs.getArray("stop").getArray()), SqlArrays.ints(rs.getArray("stop_tokens")),
                        rs.getDouble("age"), rs.getInt("logprobs"), rs.getBoolean("embedding"),
                        rs.getString("response_format"));
            }
        }
    }

    /**
     * The job's generated token ids in position order.
     *
     * @throws SQLException naming the position if the stored tokens have a gap (they are written in order)
     */
    public static int[] generatedTokens(Connection c, long jobId) throws SQLException {
        List<Integer> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT position, token_id FROM job_tokens WHERE job_id = ? ORDER BY position")) {
            ps.setLong(1, jobId);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    if (rs.getInt("position") != out.size()) {
                        throw new SQLException("job " + jobId + ": job_tokens has a gap at position " + out.size());
                    }
                    out.add(rs.getInt("token_id"));
                }
            }
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    /**
     * Locks the rows of {@code ids} (those that exist) FOR UPDATE in ascending id order, in the caller's
     * transaction: one that then updates them in any order, or with several statements, can wait for another such
     * transaction but never in a cycle with it.
     */
    public static void lockInIdOrder(Connection c, Collection<Long> ids) throws SQLException {
        if (ids.isEmpty()) return;
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT id FROM jobs WHERE id = ANY (?) ORDER BY id FOR UPDATE")) {
            ps.setArray(1, c.createArrayOf("bigint", ids.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    // locking is the point
                }
            }
        }
    }

    /**
     * Writes generated tokens: each job's running row is updated (token count, first-token time, and its end when the
     * token ends it) and the token inserted keyed by (job, position), ON CONFLICT DO NOTHING, so a redelivered record
     * cannot duplicate or reorder tokens. A job no longer running (cancelled, failed) gets nothing. The rows are
     * written in (job id, position) order, whatever the order of {@code tokens}: the lock order of this class.
     *
     * @return per token of {@code tokens} (in its order), whether its job was running (and the token stored)
     */
    public static boolean[] appendTokens(Connection c, List<Token> tokens) throws SQLException {
        return appendTokens(c, tokens, ANY_EPOCH);
    }

    /** {@link #appendTokens(Connection, List, int)}'s epoch for a writer that is not a stage of a plan. */
    public static final int ANY_EPOCH = -1;

    /**
     * As {@link #appendTokens(Connection, List)}, for tokens sampled under plan {@code planEpoch}: a job is written only
     * while it is still under that plan ({@code plan_epoch}), so a store that comes after the job was re-prefilled
     * under a newer plan leaves it as that re-prefill read it ({@link #ANY_EPOCH}: under any plan).
     */
    public static boolean[] appendTokens(Connection c, List<Token> tokens, int planEpoch) throws SQLException {
        boolean[] updated = new boolean[tokens.size()];
        if (tokens.isEmpty()) return updated;
        Integer[] order = new Integer[tokens.size()]; // order[k]: the index in tokens of the k-th token written
        for (int i = 0; i < order.length; i++) order[i] = i;
        Arrays.sort(order, Comparator.<Integer>comparingLong(i -> tokens.get(i).jobId())
                .thenComparingInt(i -> tokens.get(i).position()));
        List<Token> inOrder = new ArrayList<>(tokens.size());
        for (int i : order) inOrder.add(tokens.get(i));
        try (PreparedStatement ps = c.prepareStatement("""
                UPDATE jobs SET token_count = ?, first_token_at = coalesce(first_token_at, now()),
                    status = coalesce(?, status), finish_reason = coalesce(?, finish_reason),
                    text = coalesce(?, text), finished_at = CASE WHEN ? THEN now() ELSE finished_at END
                WHERE id = ? AND status = ? AND (? < 0 OR plan_epoch = ?)""")) {
            for (Token t : inOrder) {
                ps.setInt(1, t.position() + 1);
                ps.setString(2, t.ends() ? JobStatus.COMPLETED.sql() : null);
                ps.setString(3, t.finishReason());
                ps.setString(4, t.finalText());
                ps.setBoolean(5, t.ends());
                ps.setLong(6, t.jobId());
                ps.setString(7, JobStatus.RUNNING.sql());
                ps.setInt(8, planEpoch);
                ps.setInt(9, planEpoch);
                ps.addBatch();
            }
            int[] counts = ps.executeBatch();
            for (int k = 0; k < counts.length; k++) updated[order[k]] = counts[k] > 0;
        }
        try (PreparedStatement ps = c.prepareStatement("""
                INSERT INTO job_tokens (job_id, position, token_id, text, logprob, top_ids, top_logprobs)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (job_id, position) DO NOTHING""")) {
            for (int k = 0; k < inOrder.size(); k++) {
                if (!updated[order[k]]) continue;
                Token t = inOrder.get(k);
                ps.setLong(1, t.jobId());
                ps.setInt(2, t.position());
                ps.setInt(3, t.tokenId());
                ps.setString(4, t.text());
                Logprobs lp = t.logprobs();
                if (lp == null) {
                    ps.setNull(5, java.sql.Types.REAL);
                    ps.setNull(6, java.sql.Types.ARRAY);
                    ps.setNull(7, java.sql.Types.ARRAY);
                } else {
                    ps.setFloat(5, lp.logprob());
                    ps.setArray(6, c.createArrayOf("integer", Arrays.stream(lp.topIds()).boxed().toArray()));
                    Float[] top = new Float[lp.topLogprobs().length];
                    for (int i = 0; i < top.length; i++) top[i] = lp.topLogprobs()[i];
                    ps.setArray(7, c.createArrayOf("real", top));
                }
                ps.addBatch();
            }
            ps.executeBatch();
        }
        return updated;
    }

    private static List<Long> ascending(List<Long> ids) {
        List<Long> sorted = new ArrayList<>(ids);
        sorted.sort(null);
        return sorted;
    }
}
