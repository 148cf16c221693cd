package dev.bunshin.scheduler;

import dev.bunshin.db.JobStatus;
import dev.bunshin.db.JobsTable;
import dev.bunshin.db.PlanTable;
import dev.bunshin.db.StagePlan;
import dev.bunshin.db.WorkersTable;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;
import java.util.function.LongSupplier;
import java.util.function.ToDoubleFunction;
import java.util.logging.Logger;

/**
 * The cluster as the database records it, as gauges of one model (Micrometer; served at the scheduler's
 * {@code /q/metrics}): jobs by status, the queue depth, the current plan's epoch and stages, workers by status.
 * The scheduler owns them because it is the one process per model that acts on all three tables.
 *
 * <p>Read at scrape time from one {@link Snapshot}, taken again only when the last is older than {@code maxAge}:
 * however often Prometheus (or several) scrape, the database answers three queries per {@code maxAge} at most.
 * While the database is away the gauges read NaN (unknown), not the last values.
 */
public final class ClusterMetrics {

    private static final Logger LOG = Logger.getLogger(ClusterMetrics.class.getName());

    /** What the gauges read: counts by status, and the current plan (epoch 0 and no stages before the first). */
    record Snapshot(Map<JobStatus, Long> jobs, Map<String, Long> workers, int planEpoch, int planStages) {
    }

    /** Takes a snapshot (from the database, or a fake in tests). */
    interface Reader {
        Snapshot read() throws SQLException;
    }

    private final Reader reader;
    private final long maxAgeNanos;
    private final LongSupplier clock;
    private Snapshot snapshot;
    private long readAt;
    private boolean read;
    /** Whether the current failure to read has been logged (once per outage). */
    private boolean failureLogged;

    /** Gauges of {@code model} in {@code registry}, read from {@code db} at most every {@code maxAge}. */
    public ClusterMetrics(MeterRegistry registry, DataSource db, String model, Duration maxAge) {
        this(registry, model, () -> read(db, model), maxAge, System::nanoTime);
    }

    ClusterMetrics(MeterRegistry registry, String model, Reader reader, Duration maxAge, LongSupplier clock) {
        this.reader = reader;
        this.maxAgeNanos = maxAge.toNanos();
        this.clock = clock;
        for (JobStatus s : JobStatus.values()) {
            gauge(registry, "bunshin.jobs", "Jobs of the model in this status", model, "status", s.sql(),
                    snap -> snap.jobs().get(s));
        }
        gauge(registry, "bunshin.queue.depth", "Queued jobs of the model, waiting for the scheduler to dispatch them",
                model, null, null, snap -> snap.jobs().get(JobStatus.QUEUED));
        gauge(registry, "bunshin.plan.epoch", "Epoch of the model's current stage plan (0 before the first)",
                model, null, null, Snapshot::planEpoch);
        gauge(registry, "bunshin.plan.stages", "Stages of the model's current plan (0 before the first)",
                model, null, null, Snapshot::planStages);
        for (String s : WorkersTable.STATUSES) {
            gauge(registry, "bunshin.workers", "Workers of the model in this status", model, "status", s,
                    snap -> snap.workers().get(s));
        }
    }

    private void gauge(MeterRegistry registry, String name, String description, String model, String tag,
                       String value, ToDoubleFunction<Snapshot> f) {
        Gauge.Builder<ClusterMetrics> b = Gauge.builder(name, this, m -> {
                    Snapshot snap = m.snapshot();
                    return snap == null ? Double.NaN : f.applyAsDouble(snap);
                })
                .description(description).tag("model", model);
        if (tag != null) b.tag(tag, value);
        b.register(registry);
    }

    /** The last snapshot if younger than maxAge, else a new one; null while the database cannot be read. */
    synchronized Snapshot snapshot() {
        long now = clock.getAsLong();
        if (read && now - readAt < maxAgeNanos) return snapshot;
        read = true;
        readAt = now;
        try {
            snapshot = reader.read();
            failureLogged = false;
        } catch (SQLException | RuntimeException e) {
            snapshot = null;
            if (!failureLogged) {
                failureLogged = true;
                LOG.warning("cluster gauges: cannot read the database (they read NaN until it answers): " + e);
            }
        }
        return snapshot;
    }

    private static Snapshot read(DataSource db, String model) throws SQLException {
        try (Connection c = db.getConnection()) {
            StagePlan plan = PlanTable.current(c, model);
            return new Snapshot(JobsTable.countByStatus(c, model), WorkersTable.countByStatus(c, model),
                    plan == null ? 0 : plan.epoch(), plan == null ? 0 : plan.stages().size());
        }
    }
}
