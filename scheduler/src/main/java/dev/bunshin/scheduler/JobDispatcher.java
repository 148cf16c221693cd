package dev.bunshin.scheduler;

import dev.bunshin.db.JobsTable;
import dev.bunshin.db.JobsTable.Prefill;
import dev.bunshin.protocol.ActivationRecord;
import dev.bunshin.protocol.ActivationProducer;
import dev.bunshin.db.StagePlan;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;

import javax.sql.DataSource;
import java.sql.Connection;
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
        this.producer = ActivationProducer.create(s.bootstrapServers(), s.maxRecordBytes());
    }

    /** Dispatches queued jobs while fewer than maxRunning run. Returns how many were dispatched. */
    int dispatchQueued(StagePlan plan) throws Exception {
        List<Prefill> jobs;
        try (Connection c = db.getConnection()) {
            c.setAutoCommit(false);
            try {
                int room = maxRunning - JobsTable.countRunning(c, modelId);
                if (room <= 0) {
                    c.rollback();
                    return 0;
                }
                jobs = new ArrayList<>();
                for (Prefill j : JobsTable.lockQueued(c, modelId, room)) {
                    String why = j.tokens().length == 0 ? "empty prompt (no tokens)"
                            : j.tokens().length > contextLength ? "prompt of " + j.tokens().length
                              + " tokens does not fit the context of " + contextLength : null;
                    if (why != null) fail(c, j.id(), why);
                    else jobs.add(j);
                }
                JobsTable.start(c, ids(jobs), plan.epoch());
                c.commit();
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
        List<Prefill> jobs = new ArrayList<>();
        try (Connection c = db.getConnection()) {
            c.setAutoCommit(false);
            try {
                for (Prefill j : JobsTable.lockRunningBefore(c, modelId, plan.epoch())) {
                    if (j.tokens().length > maxReprefillTokens || j.tokens().length > contextLength) {
                        fail(c, j.id(), "stage plan changed (epoch " + plan.epoch() + ") and re-prefilling "
                                + j.tokens().length + " tokens exceeds bunshin.scheduler.max-reprefill-tokens="
                                + maxReprefillTokens + " or the context of " + contextLength);
                    } else {
                        jobs.add(j);
                    }
                }
                JobsTable.setPlanEpoch(c, ids(jobs), plan.epoch());
                c.commit();
            } catch (SQLException e) {
                c.rollback();
                throw e;
            }
        }
        if (!jobs.isEmpty()) LOG.info("re-prefilling " + jobs.size() + " running job(s) under plan epoch " + plan.epoch());
        produce(plan, jobs);
        return jobs.size();
    }

    private static List<Long> ids(List<Prefill> jobs) {
        List<Long> ids = new ArrayList<>(jobs.size());
        for (Prefill j : jobs) ids.add(j.id());
        return ids;
    }

    private void produce(StagePlan plan, List<Prefill> jobs) throws SQLException {
        String topic = plan.stages().getFirst().topic();
        Map<Long, List<Future<RecordMetadata>>> sent = new HashMap<>();
        for (Prefill j : jobs) {
            int chunks = (j.tokens().length + tokensPerRecord - 1) / tokensPerRecord;
            List<Future<RecordMetadata>> fs = new ArrayList<>();
            for (int k = 0; k < chunks; k++) {
                int from = k * tokensPerRecord;
                int[] part = Arrays.copyOfRange(j.tokens(), from, Math.min(j.tokens().length, from + tokensPerRecord));
                fs.add(producer.send(new ProducerRecord<>(topic, j.id(),
                        ActivationRecord.prefill(j.id(), plan.epoch(), from, k, chunks, part))));
            }
            sent.put(j.id(), fs);
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

    private static void fail(Connection c, long jobId, String error) throws SQLException {
        LOG.warning("job " + jobId + " failed: " + error);
        JobsTable.fail(c, jobId, error);
    }

    @Override
    public void close() {
        producer.close();
    }
}
