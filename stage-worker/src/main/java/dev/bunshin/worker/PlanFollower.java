package dev.bunshin.worker;

import dev.bunshin.protocol.events.EventPublisher;
import dev.bunshin.db.PlanTable;
import dev.bunshin.db.StagePlan;
import dev.bunshin.engine.EngineOptions;
import dev.bunshin.engine.LayerRange;
import dev.bunshin.engine.Pooling;
import dev.bunshin.engine.gguf.GgufException;
import dev.bunshin.engine.StageBackend;
import dev.bunshin.llama.StageBackends;
import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.engine.tokenizer.Tokenizer;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.logging.Logger;

/**
 * Follows the current stage plan: when its epoch changes, loads ONLY this worker's layer range (or unloads it
 * when the plan leaves the worker out), opens the consumer of its stage's topic, becomes the tail if its stage is
 * the last, and reports the epoch as loaded. Every KV cache and tail state of the old plan is dropped: the
 * scheduler re-prefills running jobs under the new one. Runs on the loop thread only.
 */
final class PlanFollower implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(PlanFollower.class.getName());
    /** How often to check for a new plan epoch (one indexed SELECT). */
    private static final long CHECK_MILLIS = 250;
    /** How long a tail's transactions in flight may take to commit when a new plan replaces it / the worker closes. */
    private static final long PLAN_CHANGE_STORE_GRACE_MS = 5_000;
    private static final long CLOSE_STORE_GRACE_MS = 2_000;

    private final DataSource db;
    private final WorkerSettings settings;
    private final WorkerRegistration registration;
    private final PositionLedger ledger;
    private final DatabaseRetry database;
    private final TailMetrics tailMetrics;
    private GgufFile file;
    private Tokenizer tokenizer;
    private StageConsumer consumer;
    private long lastCheck;
    /** What runs now; null while this worker has no stage. Read by other threads for status. */
    private volatile RecordProcessor.Assignment assignment;
    private volatile int epoch;
    private final EventPublisher events;
    /** The epoch loaded but not yet reported to the workers table (the database was away), or 0. */
    private int unreported;

    PlanFollower(DataSource db, WorkerSettings settings, WorkerRegistration registration, PositionLedger ledger,
                 DatabaseRetry database, EventPublisher events, TailMetrics tailMetrics) {
        this.db = db;
        this.events = events;
        this.tailMetrics = tailMetrics;
        this.database = database;
        this.settings = settings;
        this.registration = registration;
        this.ledger = ledger;
    }

    /** This worker's stage under the plan it has loaded, or null. */
    RecordProcessor.Assignment assignment() {
        return assignment;
    }

    /** The consumer of this worker's stage, or null while it has none. */
    StageConsumer consumer() {
        return consumer;
    }

    int epoch() {
        return epoch;
    }

    /** Check at the next {@link #refresh} whatever the interval (a record of a newer plan came). */
    void checkSoon() {
        lastCheck = 0;
    }

    /**
     * Loads the current plan if its epoch is not the one loaded (at most every {@value #CHECK_MILLIS} ms). While the
     * database is away the check is skipped (the outage logged once, see {@link DatabaseRetry}) and the worker goes
     * on with the plan it has: stages before the tail need only Kafka.
     */
    void refresh() throws Exception {
        long now = System.currentTimeMillis();
        if (now - lastCheck < CHECK_MILLIS) return;
        lastCheck = now;
        StagePlan next;
        try (Connection c = db.getConnection()) {
            if (unreported != 0) {
                registration.loaded(unreported);
                unreported = 0;
            }
            next = PlanTable.currentEpoch(c, settings.modelId()) == epoch ? null : PlanTable.current(c, settings.modelId());
        } catch (SQLException e) {
            if (!DatabaseRetry.isTransient(e)) throw e;
            database.failed("plan check", e);
            return;
        }
        database.succeeded();
        if (next != null) load(next);
    }

    /** The model's embedding pooling, or null if it has none we support (then its embedding jobs fail). */
    private Pooling pooling() {
        try {
            return Pooling.of(file);
        } catch (GgufException e) {
            LOG.warning("worker " + settings.id() + ": " + e.getMessage() + "; embedding jobs will fail");
            return null;
        }
    }

    private void load(StagePlan next) throws Exception {
        RecordProcessor.Assignment old = assignment;
        StageBackend backend = old == null ? null : old.backend();
        // Jobs of the old plan are re-prefilled by the scheduler: drop every KV cache and tail state.
        if (backend != null) for (long job : ledger.jobs()) backend.free(job);
        ledger.clear();
        // The old tail's transactions in flight commit first (a job re-prefilled meanwhile is left as it was read).
        if (old != null && old.tail() != null) old.tail().close(PLAN_CHANGE_STORE_GRACE_MS);
        StagePlan.Stage mine = next.stageOf(settings.id());
        if (mine == null) {
            closeConsumer();
            closeQuietly(backend);
            assignment = null;
            LOG.info("worker " + settings.id() + " has no stage in plan epoch " + next.epoch());
        } else {
            LayerRange range = new LayerRange(mine.layerStart(), mine.layerEnd());
            // The plan's context length (0 only for a plan stored before it was recorded: the model's own).
            if (backend == null || !backend.range().equals(range)
                    || (next.contextLength() > 0 && backend.contextLength() != next.contextLength())) {
                closeQuietly(backend);
                assignment = null;
                backend = openBackend(range, next.contextLength());
            }
            if (old == null || !old.stage().topic().equals(mine.topic()) || consumer == null) {
                closeConsumer();
                consumer = new StageConsumer(KafkaClients.consumer(settings, mine), settings.id(),
                        settings.maxBatchTokens() + settings.maxSequences());
            }
            TailStage tail = null;
            if (next.isLast(mine)) {
                if (tokenizer == null) tokenizer = Tokenizer.fromGguf(file);
                tail = new TailStage(db, database, events, tokenizer, backend.contextLength(), tailMetrics, pooling(),
                        backend.nEmbd());
            }
            assignment = new RecordProcessor.Assignment(next, mine, backend, tail);
            LOG.info("worker " + settings.id() + " runs stage " + mine.index() + " layers " + range + " of "
                    + next.stages().size() + " (plan epoch " + next.epoch() + ", context " + backend.contextLength() + ")");
        }
        epoch = next.epoch();
        try {
            registration.loaded(epoch);
            unreported = 0;
        } catch (SQLException e) {
            if (!DatabaseRetry.isTransient(e)) throw e;
            database.failed("report plan epoch " + epoch + " loaded", e);
            unreported = epoch; // the next refresh reports it: the scheduler dispatches only once every stage has
        }
    }

    /** The backend that runs a layer range ({@code bunshin.worker.backend}); it never falls back to the other one. */
    private StageBackend openBackend(LayerRange range, int contextLength) throws Exception {
        if (file == null) file = GgufFile.open(settings.model());
        StageBackend b = StageBackends.load(settings.backend(), file, range,
                new EngineOptions(settings.threads(), contextLength, settings.maxSequences()));
        LOG.info("worker " + settings.id() + " backend: " + b.describe());
        try {
            registration.backend(b.backend(), b.describe());
        } catch (SQLException e) {
            if (!DatabaseRetry.isTransient(e)) throw e;
            database.failed("report the backend", e); // informational only: go on without it
        }
        return b;
    }

    private void closeConsumer() {
        if (consumer != null) consumer.close();
        consumer = null;
    }

    @Override
    public void close() {
        closeConsumer();
        RecordProcessor.Assignment a = assignment;
        assignment = null;
        if (a != null && a.tail() != null) a.tail().close(CLOSE_STORE_GRACE_MS);
        if (a != null) closeQuietly(a.backend());
        closeQuietly(file);
        ledger.clear();
    }

    static void closeQuietly(AutoCloseable c) {
        if (c == null) return;
        try {
            c.close();
        } catch (Exception e) {
            LOG.fine("close: " + e);
        }
    }
}
