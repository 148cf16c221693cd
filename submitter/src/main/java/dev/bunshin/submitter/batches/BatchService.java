package dev.bunshin.submitter.batches;

import dev.bunshin.submitter.api.ApiException;
import dev.bunshin.submitter.api.Tenant;
import io.quarkus.panache.common.Parameters;
import dev.bunshin.submitter.jobs.Job;
import dev.bunshin.submitter.jobs.EventsOut;
import dev.bunshin.submitter.jobs.JobService;
import dev.bunshin.submitter.jobs.JobSpec;
import dev.bunshin.protocol.events.BatchEvent;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;
import jakarta.persistence.LockModeType;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Batches: a JSONL file becomes one job per valid line (one per input of an embeddings line) and one error per
 * invalid line, in one transaction (a batch is accepted whole or not at all; nothing accepted is lost). Progress is
 * counted, in lines, from the jobs rows.
 * When every job has ended the batch writes its output and error files and completes (on read, and from
 * {@link BatchSweeper}).
 */
@ApplicationScoped
public class BatchService {

    /** Progress of a batch. accepted = total - invalid = queued + running + completed + failed + cancelled. */
    public record Counts(int total, int invalid, int queued, int running, int completed, int failed, int cancelled) {
        int accepted() {
            return total - invalid;
        }

        int unfinished() {
            return queued + running;
        }
    }

    /**
     * How many lines are in each status. A line of several jobs (an embeddings line, one job per input) is queued
     * while all its jobs are, running while any is unfinished, else failed if any failed, cancelled if any was.
     */
    private static final String LINE_STATUS_COUNTS = """
            SELECT s, count(*) FROM (
                SELECT CASE WHEN count(*) = 1 THEN min(status)
                            WHEN bool_and(status = 'queued') THEN 'queued'
                            WHEN bool_or(status IN ('queued', 'running')) THEN 'running'
                            WHEN bool_or(status = 'failed') THEN 'failed'
                            WHEN bool_or(status = 'cancelled') THEN 'cancelled'
                            ELSE 'completed' END AS s
                  FROM jobs WHERE batch_id = ?1 GROUP BY batch_line) line
             GROUP BY s""";

    private final EntityManager em;
    private final ObjectMapper mapper;
    private final RequestRouter router;
    private final JobService jobs;
    private final BatchFiles files;
    private final EventsOut events;

    BatchService(EntityManager em, ObjectMapper mapper, RequestRouter router, JobService jobs, BatchFiles files,
                 EventsOut events) {
        this.events = events;
        this.em = em;
        this.mapper = mapper;
        this.router = router;
        this.jobs = jobs;
        this.files = files;
    }

    /**
     * Creates a batch from JSONL content.
     *
     * @param inputFileId an uploaded file holding {@code content}, or null to store the content as a new file
     * @param endpoint    the url every line must name, or null for any supported url
     * @param tenant      who creates it: the batch, its jobs and its files are theirs
     */
    public Batch create(byte[] content, String filename, String inputFileId, String endpoint, String completionWindow,
                        String metadata, Tenant tenant) {
        // Tokenizing every line is the slow part: done before the transaction, which then only inserts.
        BatchLines.Result lines = BatchLines.read(content, endpoint, mapper, router);
        if (lines.total() == 0) {
            throw ApiException.invalid(inputFileId == null ? "file" : "input_file_id", "empty_file",
                    "the batch file " + (filename == null ? "" : "'" + filename + "' ") + "has no request lines");
        }
        return QuarkusTransaction.requiringNew().call(() -> {
            String fileId = inputFileId;
            if (fileId == null) {
                StoredFile f = StoredFile.of("batch", filename == null ? "batch.jsonl" : filename, content, tenant.owner());
                f.persist();
                fileId = f.id;
            }
            Instant now = Instant.now();
            Batch b = new Batch();
            b.id = StoredFile.newId("batch_");
            b.status = Batch.IN_PROGRESS;
            b.endpoint = endpoint;
            b.completionWindow = completionWindow == null ? "24h" : completionWindow;
            b.inputFileId = fileId;
            b.metadata = metadata;
            b.owner = tenant.owner();
            b.total = lines.total();
            b.invalid = lines.rejected().size();
            b.createdAt = now;
            b.inProgressAt = now;
            b.persist();
            for (BatchLines.Accepted a : lines.accepted()) {
                for (JobSpec spec : a.specs()) { // (persisted in order: a line's jobs' ids are its inputs' order)
                    Job j = Job.of(spec);
                    j.batchId = b.id;
                    j.customId = a.customId();
                    j.batchLine = a.line();
                    j.owner = tenant.owner();
                    j.persist();
                }
            }
            for (BatchLines.Rejected r : lines.rejected()) {
                BatchError e = new BatchError();
                e.batchId = b.id;
                e.line = r.line();
                e.customId = r.customId();
                e.param = r.param();
                e.code = r.code() == null ? "invalid_value" : r.code();
                e.message = r.message();
                e.persist();
            }
            em.flush();
            if (lines.accepted().isEmpty()) {
                finish(b, counts(b), Batch.FAILED);
            }
            return b;
        });
    }

    /** The batch, finalized first if all its jobs have ended. 404 if absent or another tenant's. */
    public Batch get(String id, Tenant tenant) {
        Batch b = QuarkusTransaction.requiringNew().call(() -> {
            Batch found = Batch.findById(id);
            if (found == null || !tenant.sees(found.owner)) {
                throw notFound(id);
            }
            em.detach(found);
            return found;
        });
        if (b.isOpen() && counts(id).unfinished() == 0) {
            return finalizeIfDone(id);
        }
        return b;
    }

    /** Writes the output and error files and closes the batch, if all its jobs have ended (row-locked: once). */
    public Batch finalizeIfDone(String id) {
        boolean[] closed = new boolean[1];
        Batch done = QuarkusTransaction.requiringNew().call(() -> {
            Batch b = em.find(Batch.class, id, LockModeType.PESSIMISTIC_WRITE);
            if (b == null) {
                throw ApiException.notFound("id", "batch_not_found", "batch '" + id + "' does not exist");
            }
            Counts c = counts(b);
            if (b.isOpen() && c.unfinished() == 0) {
                finish(b, c, Batch.CANCELLING.equals(b.status) ? Batch.CANCELLED : Batch.COMPLETED);
                closed[0] = true;
            }
            em.flush();
            em.detach(b);
            return b;
        });
        if (closed[0]) events.publish(event(done, counts(id)));
        return done;
    }

    /** Announces an open batch's progress (the sweeper calls this when its counts moved). */
    void announceProgress(String id, Counts c) {
        String status = QuarkusTransaction.requiringNew().call(() -> {
            Batch b = em.find(Batch.class, id);
            return b == null ? null : b.status;
        });
        if (status != null) events.publish(new BatchEvent(id, status, c.completed(), c.failed() + c.invalid(), c.total()));
    }

    private static BatchEvent event(Batch b, Counts c) {
        return new BatchEvent(b.id, b.status, c.completed(), c.failed() + c.invalid(), c.total());
    }

    private void finish(Batch b, Counts c, String status) {
        Instant now = Instant.now();
        b.finalizingAt = now;
        StoredFile out = StoredFile.of("batch_output", b.id + "_output.jsonl", files.output(b.id), b.owner);
        out.persist();
        b.outputFileId = out.id;
        if (c.invalid() > 0) {
            StoredFile err = StoredFile.of("batch_error", b.id + "_errors.jsonl", files.errors(b.id), b.owner);
            err.persist();
            b.errorFileId = err.id;
        }
        b.status = status;
        switch (status) {
            case Batch.COMPLETED -> b.completedAt = now;
            case Batch.CANCELLED -> b.cancelledAt = now;
            default -> b.failedAt = now;
        }
    }

    /**
     * Cancels a batch: its unfinished jobs are cancelled, then it closes as cancelled (with the output of the jobs
     * that had ended). Cancelling a cancelled batch is idempotent; one that completed or failed answers 409.
     */
    public Batch cancel(String id, Tenant tenant) {
        String status = QuarkusTransaction.requiringNew().call(() -> {
            Batch b = em.find(Batch.class, id, LockModeType.PESSIMISTIC_WRITE);
            if (b == null || !tenant.sees(b.owner)) {
                throw notFound(id);
            }
            if (b.isOpen() && !Batch.CANCELLING.equals(b.status)) {
                b.status = Batch.CANCELLING;
                b.cancellingAt = Instant.now();
            }
            return b.status;
        });
        if (Batch.CANCELLED.equals(status)) {
            return get(id, tenant);
        }
        if (!Batch.CANCELLING.equals(status)) {
            throw ApiException.conflict("batch_not_cancellable", "batch '" + id + "' has already " + status
                    + " and cannot be cancelled");
        }
        jobs.cancelBatch(id);
        Batch b = finalizeIfDone(id);
        if (Batch.CANCELLING.equals(b.status)) events.publish(event(b, counts(id))); // (cancelled: announced above)
        return b;
    }

    public Counts counts(String id) {
        return QuarkusTransaction.joiningExisting().call(() -> {
            Batch b = em.find(Batch.class, id);
            return counts(b);
        });
    }

    private Counts counts(Batch b) {
        @SuppressWarnings("unchecked")
        List<Object[]> rows = em.createNativeQuery(LINE_STATUS_COUNTS).setParameter(1, b.id).getResultList();
        Map<String, Integer> n = new LinkedHashMap<>();
        for (Object[] r : rows) {
            n.put((String) r[0], ((Number) r[1]).intValue());
        }
        return new Counts(b.total, b.invalid, n.getOrDefault(Job.QUEUED, 0), n.getOrDefault(Job.RUNNING, 0),
                n.getOrDefault(Job.COMPLETED, 0), n.getOrDefault(Job.FAILED, 0), n.getOrDefault(Job.CANCELLED, 0));
    }

    /** The first rejected lines, for the batch object's {@code errors}. */
    List<Map<String, Object>> firstErrors(String batchId, int max) {
        return QuarkusTransaction.joiningExisting().call(() -> BatchError.<BatchError>find("batchId = ?1 order by line", batchId)
                .page(0, max).list().stream()
                .map(e -> BatchFiles.error(e.code, e.message, e.param, e.line)).toList());
    }

    /** Ids of batches that may need finalizing. */
    List<String> openIds() {
        return QuarkusTransaction.requiringNew().call(() -> em.createQuery(
                "select b.id from Batch b where b.status in ('in_progress', 'cancelling', 'finalizing')", String.class)
                .getResultList());
    }

    /** The tenant's batches (everyone's for an admin), newest first, after the batch {@code after} (keyset). */
    List<Batch> list(int limit, String after, Tenant tenant) {
        return QuarkusTransaction.requiringNew().call(() -> {
            StringBuilder query = new StringBuilder("1 = 1");
            Parameters params = new Parameters();
            if (!tenant.seesAll()) {
                query.append(" and owner = :owner");
                params.and("owner", tenant.owner());
            }
            if (after != null) {
                Batch a = Batch.findById(after);
                if (a == null || !tenant.sees(a.owner)) {
                    throw ApiException.invalid("after", "batch '" + after + "' does not exist");
                }
                query.append(" and (createdAt < :at or (createdAt = :at and id < :id))");
                params.and("at", a.createdAt).and("id", a.id);
            }
            List<Batch> page = Batch.<Batch>find(query + " order by createdAt desc, id desc", params)
                    .page(0, limit + 1).list();
            page.forEach(em::detach);
            return page;
        });
    }

    private static ApiException notFound(String id) {
        return ApiException.notFound("id", "batch_not_found", "batch '" + id + "' does not exist");
    }
}
