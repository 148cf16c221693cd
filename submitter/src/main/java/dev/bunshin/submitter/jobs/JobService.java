package dev.bunshin.submitter.jobs;

import dev.bunshin.submitter.api.ApiException;
import dev.bunshin.db.JobStatus;
import dev.bunshin.db.JobsTable;
import dev.bunshin.protocol.events.JobEvent;
import dev.bunshin.db.SqlRetry;
import io.quarkus.narayana.jta.QuarkusTransaction;
import dev.bunshin.submitter.api.Tenant;
import io.quarkus.panache.common.Parameters;
import io.quarkus.panache.common.Sort;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;
import jakarta.transaction.Status;
import jakarta.transaction.Synchronization;
import jakarta.transaction.TransactionSynchronizationRegistry;
import jakarta.transaction.Transactional;
import org.hibernate.Session;

import java.util.List;

/**
 * Jobs as the submitter sees them: it inserts queued rows and reads progress; the scheduler and the tail stage
 * worker do everything in between. The one state change the submitter makes, cancel, is {@link JobsTable#cancel}:
 * a single conditional UPDATE, so it cannot overwrite a concurrent end of the job.
 */
@ApplicationScoped
public class JobService {

    /** What a client sees of a job: the row plus its generated text so far. */
    public record Snapshot(Job job, String text, int tokenCount) {}

    /** Attempts at a batch cancel that PostgreSQL aborts as a deadlock or serialization failure. */
    static final int CANCEL_ATTEMPTS = 6;

    private final EntityManager em;
    private final EventsOut events;
    private final TransactionSynchronizationRegistry transactions;

    JobService(EntityManager em, EventsOut events, TransactionSynchronizationRegistry transactions) {
        this.em = em;
        this.events = events;
        this.transactions = transactions;
    }

    /** A queued job owned by {@code tenant}. */
    @Transactional
    public Job create(JobSpec spec, Tenant tenant) {
        Job job = Job.of(spec);
        job.owner = tenant.owner();
        job.persistAndFlush();
        return job;
    }

    /** The job, or a 404 naming it: also when it is another tenant's (its existence is not theirs to learn). */
    @Transactional
    public Job find(long id, Tenant tenant) {
        Job job = Job.findById(id);
        if (job == null || !tenant.sees(job.owner)) {
            throw ApiException.notFound("id", "job_not_found", "job " + id + " does not exist");
        }
        em.detach(job);
        return job;
    }

    /** The job and its text: the final text once it has ended, else the tokens written so far in position order. */
    @Transactional
    public Snapshot snapshot(long id, Tenant tenant) {
        return snapshot(find(id, tenant));
    }

    public Snapshot snapshot(Job job) {
        if (job.isFinished() && job.text != null) {
            return new Snapshot(job, job.text, job.tokenCount);
        }
        Object[] row = (Object[]) em.createNativeQuery(
                        "SELECT coalesce(string_agg(text, '' ORDER BY position), ''), count(*) FROM job_tokens WHERE job_id = ?1")
                .setParameter(1, job.id).getSingleResult();
        int count = ((Number) row[1]).intValue();
        return new Snapshot(job, (String) row[0], Math.max(count, job.tokenCount));
    }

    /**
     * A page of jobs in id order after the cursor {@code after} (keyset pagination: stable while rows are added).
     * Returns up to {@code limit + 1} rows so the caller can tell whether another page exists.
     */
    @Transactional
    public List<Job> list(String status, int limit, long after, Tenant tenant) {
        StringBuilder query = new StringBuilder("id > :after");
        Parameters params = Parameters.with("after", after);
        if (status != null) {
            query.append(" and status = :status");
            params.and("status", status);
        }
        if (!tenant.seesAll()) {
            query.append(" and owner = :owner");
            params.and("owner", tenant.owner());
        }
        List<Job> jobs = Job.<Job>find(query.toString(), Sort.by("id"), params).page(0, limit + 1).list();
        jobs.forEach(em::detach);
        return jobs;
    }

    /**
     * Cancels a queued or running job. Its text becomes what was generated so far.
     *
     * @return true if this call cancelled it, false if it was already cancelled
     * @throws ApiException 404 if absent, 409 if it already completed or failed
     */
    @Transactional
    public boolean cancel(long id, Tenant tenant) {
        find(id, tenant);
        if (em.unwrap(Session.class).doReturningWork(c -> JobsTable.cancel(c, id))) {
            afterCommit(() -> events.publish(JobEvent.status(id, JobStatus.CANCELLED.sql())));
            return true;
        }
        Job job = find(id, tenant);
        if (Job.CANCELLED.equals(job.status)) {
            return false;
        }
        throw ApiException.conflict("job_finished", "job " + id + " has already " + job.status
                + " and cannot be cancelled");
    }

    /**
     * Cancels every unfinished job of a batch; returns how many. Its own transaction, locking the rows in id order
     * ({@link JobsTable#cancelBatch}), run again should PostgreSQL still abort it for a deadlock or a serialization
     * failure (with a writer that does not keep the lock order).
     */
    public int cancelBatch(String batchId) {
        return SqlRetry.run(CANCEL_ATTEMPTS, () -> QuarkusTransaction.requiringNew().call(
                () -> em.unwrap(Session.class).doReturningWork(c -> JobsTable.cancelBatch(c, batchId))));
    }

    /** Runs {@code action} once the current transaction has committed (not at all if it rolls back). */
    private void afterCommit(Runnable action) {
        transactions.registerInterposedSynchronization(new Synchronization() {
            @Override
            public void beforeCompletion() {}

            @Override
            public void afterCompletion(int status) {
                if (status == Status.STATUS_COMMITTED) action.run();
            }
        });
    }
}
