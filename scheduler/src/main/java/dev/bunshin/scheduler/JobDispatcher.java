package dev.bunshin.scheduler;

import dev.bunshin.db.JobsTable;
import dev.bunshin.db.JobsTable.Prefill;
import dev.bunshin.protocol.ActivationRecord;
import dev.bunshin.db.JobStatus;
import dev.bunshin.protocol.ActivationProducer;
import dev.bunshin.protocol.events.EventPublisher;
import dev.bunshin.protocol.events.JobEvent;
import dev.bunshin.db.StagePlan;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.RetriableException;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.logging.Logger;

/**
 * Moves queued jobs to stage 0 as chunked PREFILL records, at most {@code maxRunning} running at once (batch jobs
 * at most {@code maxRunning - interactiveReserve}), and
 * re-prefills running jobs after a re-plan (their prompt plus the tokens generated so far).
 *
 * <p>A job is marked running (and committed) BEFORE its records are produced, so the tail never sees a record
 * of a job that is still 'queued'. A broker outage is waited out (the send retried); only a permanent Kafka error
 * fails the job.
 */
final class JobDispatcher implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(JobDispatcher.class.getName());

    private final DataSource db;
    private final String modelId;
    private final int maxRunning;
    private final int maxBatchRunning;
    private final int contextLength;
    private final int tokensPerRecord;
    private final int maxReprefillTokens;
    private final KafkaProducer<Long, ActivationRecord> producer;
    /** Jobs this dispatcher fails are announced, so that their streams end at once. */
    private final EventPublisher events;

    JobDispatcher(DataSource db, SchedulerSettings s, int contextLength, int tokensPerRecord) {
        this.db = db;
        this.modelId = s.modelId();
        this.maxRunning = s.maxRunning();
        this.maxBatchRunning = s.maxBatchRunning();
        this.contextLength = contextLength;
        this.tokensPerRecord = tokensPerRecord;
        this.maxReprefillTokens = s.maxReprefillTokens();
        this.producer = ActivationProducer.create(s.bootstrapServers(), s.maxRecordBytes());
        this.events = new EventPublisher(s.bootstrapServers());
    }

    /** Dispatches queued jobs while fewer than maxRunning run. Returns how many were dispatched. */
    int dispatchQueued(StagePlan plan) throws Exception {
        List<Prefill> jobs;
        List<Long> failed = new ArrayList<>();
        try (Connection c = db.getConnection()) {
            c.setAutoCommit(false);
            try {
                int running = JobsTable.countRunning(c, modelId);
                int room = maxRunning - running;
                if (room <= 0) {
                    c.rollback();
                    return 0;
                }
                jobs = new ArrayList<>();
                // Batch jobs leave the interactive reserve free (issue 10): a person's job never waits for one to end.
                for (Prefill j : JobsTable.lockQueued(c, modelId, room, Math.max(0, maxBatchRunning - running))) {
                    String why = j.tokens().length == 0 ? "empty prompt (no tokens)"
                            : j.tokens().length > contextLength ? "prompt of " + j.tokens().length
                              + " tokens does not fit the context of " + contextLength : null;
                    if (why != null) fail(c, j.id(), why, failed);
                    else jobs.add(j);
                }
                JobsTable.start(c, ids(jobs), plan.epoch());
                c.commit();
                announceFailed(failed);
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
        List<Long> failed = new ArrayList<>();
        try (Connection c = db.getConnection()) {
            c.setAutoCommit(false);
            try {
                for (Prefill j : JobsTable.lockRunningBefore(c, modelId, plan.epoch())) {
                    if (j.tokens().length > maxReprefillTokens || j.tokens().length > contextLength) {
                        fail(c, j.id(), "stage plan changed (epoch " + plan.epoch() + ") and re-prefilling "
                                + j.tokens().length + " tokens exceeds bunshin.scheduler.max-reprefill-tokens="
                                + maxReprefillTokens + " or the context of " + contextLength, failed);
                    } else {
                        jobs.add(j);
                    }
                }
                JobsTable.setPlanEpoch(c, ids(jobs), plan.epoch());
                c.commit();
                announceFailed(failed);
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

    /**
     * Produces each job's prefill chunks and waits until they are delivered. The broker away is waited out
     * (issue 10): the producer retries for its delivery timeout, and a job whose send still failed with a transient
     * error is sent again from its first undelivered chunk (stage 0 drops duplicates by position) until it is
     * delivered or the scheduler closes ({@link InterruptedException}). Only a permanent error fails the job.
     */
    private void produce(StagePlan plan, List<Prefill> jobs) throws SQLException, InterruptedException {
        String topic = plan.stages().getFirst().topic();
        Map<Long, List<ProducerRecord<Long, ActivationRecord>>> pending = new LinkedHashMap<>();
        for (Prefill j : jobs) {
            int chunks = (j.tokens().length + tokensPerRecord - 1) / tokensPerRecord;
            List<ProducerRecord<Long, ActivationRecord>> records = new ArrayList<>();
            for (int k = 0; k < chunks; k++) {
                int from = k * tokensPerRecord;
                int[] part = Arrays.copyOfRange(j.tokens(), from, Math.min(j.tokens().length, from + tokensPerRecord));
                records.add(new ProducerRecord<>(topic, j.id(),
                        ActivationRecord.prefill(j.id(), plan.epoch(), from, k, chunks, part)));
            }
            pending.put(j.id(), records);
        }
        long backoff = 100;
        boolean logged = false;
        while (!pending.isEmpty()) {
            Map<Long, List<Future<RecordMetadata>>> sent = new LinkedHashMap<>();
            for (var e : pending.entrySet()) {
                List<Future<RecordMetadata>> fs = new ArrayList<>();
                for (ProducerRecord<Long, ActivationRecord> r : e.getValue()) fs.add(producer.send(r));
                sent.put(e.getKey(), fs);
            }
            producer.flush();
            Map<Long, List<ProducerRecord<Long, ActivationRecord>>> again = new LinkedHashMap<>();
            for (var e : sent.entrySet()) {
                List<Future<RecordMetadata>> fs = e.getValue();
                for (int k = 0; k < fs.size(); k++) {
                    try {
                        fs.get(k).get(); // bounded by the producer's delivery timeout
                    } catch (ExecutionException ex) {
                        Throwable cause = ex.getCause() != null ? ex.getCause() : ex;
                        List<ProducerRecord<Long, ActivationRecord>> records = pending.get(e.getKey());
                        if (cause instanceof RetriableException) {
                            if (!logged) LOG.warning("prefills to " + topic + " not delivered yet (" + cause
                                    + "); sending again until the broker is back");
                            logged = true;
                            again.put(e.getKey(), records.subList(k, records.size()));
                        } else {
                            LOG.severe("job " + e.getKey() + ": prefill not delivered to " + topic + ": " + cause);
                            List<Long> failed = new ArrayList<>();
                            try (Connection c = db.getConnection()) {
                                fail(c, e.getKey(), "prefill not delivered to " + topic + ": " + cause, failed);
                            }
                            announceFailed(failed);
                        }
                        break;
                    }
                }
            }
            pending = again;
            if (!pending.isEmpty()) {
                Thread.sleep(backoff);
                backoff = Math.min(5_000, backoff * 2);
            }
        }
        if (logged) LOG.warning("prefills to " + topic + " delivered again");
    }

    private static void fail(Connection c, long jobId, String error, List<Long> failed) throws SQLException {
        LOG.warning("job " + jobId + " failed: " + error);
        if (JobsTable.fail(c, jobId, error)) failed.add(jobId);
    }

    /** After the commit that failed them. */
    private void announceFailed(List<Long> failed) {
        for (long id : failed) events.publish(JobEvent.status(id, JobStatus.FAILED.sql()));
    }

    @Override
    public void close() {
        producer.close();
        events.close();
    }
}
