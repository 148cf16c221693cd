package dev.bunshin.scheduler;

import dev.bunshin.db.SqlArrays;
import dev.bunshin.protocol.ActivationRecord;
import dev.bunshin.protocol.ActivationSerializer;
import dev.bunshin.db.StagePlan;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.LongSerializer;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * Moves queued jobs to stage 0 as chunked PREFILL records, at most {@code maxRunning} running at once, and
 * re-prefills running jobs after a re-plan (their prompt plus the tokens generated so far).
 *
 * <p>A job is marked running (and committed) BEFORE its records are produced, so the tail never sees a record
 * of a job that is still 'queued'. If producing fails the job is failed with the Kafka error.
 */
final class JobDispatcher implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(JobDispatcher.class.getName());

    private final DataSource db;
    private final String modelId;
    private final int maxRunning;
    private final int contextLength;
    private final int tokensPerRecord;
    private final int maxReprefillTokens;
    private final KafkaProducer<Long, ActivationRecord> producer;

    JobDispatcher(DataSource db, SchedulerSettings s, int contextLength, int tokensPerRecord) {
        this.db = db;
        this.modelId = s.modelId();
        this.maxRunning = s.maxRunning();
        this.contextLength = contextLength;
        this.tokensPerRecord = tokensPerRecord;
        this.maxReprefillTokens = s.maxReprefillTokens();
        Map<String, Object> p = new HashMap<>();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, s.bootstrapServers());
        // Every prefill waits in front of a GPU-less CPU pipeline: do not add Kafka 4's default 5 ms on top.
        p.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        // A lost prefill would leave a job 'running' forever: wait for all in-sync replicas.
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        // A producer batch larger than the topic's max.message.bytes is refused and split by the client, and
        // splitting an idempotent batch can end in OutOfOrderSequenceException: keep batches under the limit.
        p.put(ProducerConfig.BATCH_SIZE_CONFIG, Math.min(s.maxRecordBytes(), 256 * 1024));
        // Retries must not reorder a job's chunks on its partition.
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        // Activations and token ids are dense numbers: compression costs CPU and saves little.
        p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "none");
        // The largest chunk must fit one request (Chunking sized the chunks under this).
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, s.maxRecordBytes() + 65536);
        this.producer = new KafkaProducer<>(p, new LongSerializer(), new ActivationSerializer());
    }

    /** Dispatches queued jobs while fewer than maxRunning run. Returns how many were dispatched. */
    int dispatchQueued(StagePlan plan) throws Exception {
        List<Job> jobs = new ArrayList<>();
        try (Connection c = db.getConnection()) {
            c.setAutoCommit(false);
            try {
                int running;
                try (PreparedStatement ps = c.prepareStatement(
                        "SELECT count(*) FROM jobs WHERE model = ? AND status = 'running'")) {
                    ps.setString(1, modelId);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        running = rs.getInt(1);
                    }
                }
                int room = maxRunning - running;
                if (room <= 0) {
                    c.rollback();
                    return 0;
                }
                // SKIP LOCKED: a second scheduler (or a slow submitter transaction) never blocks this one.
                try (PreparedStatement ps = c.prepareStatement("""
                        SELECT id, prompt_tokens FROM jobs WHERE model = ? AND status = 'queued'
                        ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED""")) {
                    ps.setString(1, modelId);
                    ps.setInt(2, room);
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) jobs.add(new Job(rs.getLong(1), SqlArrays.ints(rs.getArray(2))));
                    }
                }
                List<Job> ok = new ArrayList<>();
                for (Job j : jobs) {
                    String why = j.tokens.length == 0 ? "empty prompt (no tokens)"
                            : j.tokens.length > contextLength ? "prompt of " + j.tokens.length
                              + " tokens does not fit the context of " + contextLength : null;
                    if (why != null) fail(c, j.id, why);
                    else ok.add(j);
                }
                try (PreparedStatement ps = c.prepareStatement("""
                        UPDATE jobs SET status = 'running', started_at = now(), plan_epoch = ? WHERE id = ?""")) {
                    for (Job j : ok) {
                        ps.setInt(1, plan.epoch());
                        ps.setLong(2, j.id);
                        ps.addBatch();
                    }
                    ps.executeBatch();
                }
                c.commit();
                jobs = ok;
            } catch (SQLException e) {
                c.rollback();
                throw e;
            }
        }
        produce(plan, jobs);
        return jobs.size();
    }

    /**
     * After a re-plan: every running job prefilled under an older epoch is prefilled again (prompt + generated
     * tokens) under {@code plan}, or failed if that is more than maxReprefillTokens or the context.
     */
    int reprefill(StagePlan plan) throws Exception {
        List<Job> jobs = new ArrayList<>();
        try (Connection c = db.getConnection()) {
            c.setAutoCommit(false);
            try {
                try (PreparedStatement ps = c.prepareStatement("""
                        SELECT j.id, j.prompt_tokens,
                               coalesce((SELECT array_agg(t.token_id ORDER BY t.position) FROM job_tokens t
                                         WHERE t.job_id = j.id), '{}')
                        FROM jobs j WHERE j.model = ? AND j.status = 'running' AND j.plan_epoch < ?
                        ORDER BY j.id FOR UPDATE OF j SKIP LOCKED""")) {
                    ps.setString(1, modelId);
                    ps.setInt(2, plan.epoch());
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            int[] prompt = SqlArrays.ints(rs.getArray(2));
                            int[] generated = SqlArrays.ints(rs.getArray(3));
                            int[] all = Arrays.copyOf(prompt, prompt.length + generated.length);
                            System.arraycopy(generated, 0, all, prompt.length, generated.length);
                            jobs.add(new Job(rs.getLong(1), all));
                        }
                    }
                }
                List<Job> ok = new ArrayList<>();
                for (Job j : jobs) {
                    if (j.tokens.length > maxReprefillTokens || j.tokens.length > contextLength) {
                        fail(c, j.id, "stage plan changed (epoch " + plan.epoch() + ") and re-prefilling "
                                + j.tokens.length + " tokens exceeds bunshin.scheduler.max-reprefill-tokens="
                                + maxReprefillTokens + " or the context of " + contextLength);
                    } else {
                        ok.add(j);
                    }
                }
                try (PreparedStatement ps = c.prepareStatement("UPDATE jobs SET plan_epoch = ? WHERE id = ?")) {
                    for (Job j : ok) {
                        ps.setInt(1, plan.epoch());
                        ps.setLong(2, j.id);
                        ps.addBatch();
                    }
                    ps.executeBatch();
                }
                c.commit();
                jobs = ok;
            } catch (SQLException e) {
                c.rollback();
                throw e;
            }
        }
        if (!jobs.isEmpty()) LOG.info("re-prefilling " + jobs.size() + " running job(s) under plan epoch " + plan.epoch());
        produce(plan, jobs);
        return jobs.size();
    }

    private void produce(StagePlan plan, List<Job> jobs) throws SQLException {
        String topic = plan.stages().getFirst().topic();
        Map<Long, List<Future<RecordMetadata>>> sent = new HashMap<>();
        for (Job j : jobs) {
            int chunks = (j.tokens.length + tokensPerRecord - 1) / tokensPerRecord;
            List<Future<RecordMetadata>> fs = new ArrayList<>();
            for (int k = 0; k < chunks; k++) {
                int from = k * tokensPerRecord;
                int[] part = Arrays.copyOfRange(j.tokens, from, Math.min(j.tokens.length, from + tokensPerRecord));
                fs.add(producer.send(new ProducerRecord<>(topic, j.id,
                        ActivationRecord.prefill(j.id, plan.epoch(), from, k, chunks, part))));
            }
            sent.put(j.id, fs);
        }
        producer.flush();
        for (var e : sent.entrySet()) {
            try {
                for (Future<RecordMetadata> f : e.getValue()) f.get(30, TimeUnit.SECONDS);
            } catch (Exception ex) {
                Throwable cause = ex.getCause() != null ? ex.getCause() : ex;
                LOG.severe("job " + e.getKey() + ": prefill not delivered to " + topic + ": " + cause);
                try (Connection c = db.getConnection()) {
                    fail(c, e.getKey(), "prefill not delivered to " + topic + ": " + cause);
                }
            }
        }
    }

    static void fail(Connection c, long jobId, String error) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                UPDATE jobs SET status = 'failed', finish_reason = 'error', error = ?, finished_at = now()
                WHERE id = ? AND status IN ('queued', 'running')""")) {
            ps.setString(1, error);
            ps.setLong(2, jobId);
            ps.executeUpdate();
        }
    }

    private record Job(long id, int[] tokens) {
    }

    @Override
    public void close() {
        producer.close();
    }
}
