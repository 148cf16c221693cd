package dev.bunshin.e2e;

import dev.bunshin.db.StagePlan;
import dev.bunshin.protocol.ActivationProducer;
import dev.bunshin.protocol.WirePrecision;
import dev.bunshin.scheduler.SchedulerService;
import dev.bunshin.scheduler.SchedulerSettings;
import dev.bunshin.worker.StageWorker;
import dev.bunshin.worker.WorkerSettings;

import javax.sql.DataSource;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A scheduler and stage workers over any database (an {@link OwnDatabase}) and the shared broker, each of which a
 * test can stop and start again with the same id — a restart of that process.
 */
final class Services implements AutoCloseable {

    final String modelId;
    final List<StageWorker> workers = new ArrayList<>();
    SchedulerService scheduler;
    private final DataSource db;
    private final String kafka;
    private final Path model;
    private final int expectedWorkers;
    /** The workers' producer delivery timeout (short in tests of a broker outage). */
    Duration deliveryTimeout = ActivationProducer.DEFAULT_DELIVERY_TIMEOUT;

    Services(DataSource db, String kafka, String modelId, Path model, int expectedWorkers) {
        this.db = db;
        this.kafka = kafka;
        this.modelId = modelId;
        this.model = model;
        this.expectedWorkers = expectedWorkers;
    }

    SchedulerService startScheduler() throws Exception {
        scheduler = new SchedulerService(db, new SchedulerSettings(modelId, model, kafka, expectedWorkers,
                Duration.ofSeconds(60), Duration.ofSeconds(5), 32, 4, (short) -1, 1 << 20, 0, 8192,
                Duration.ofMillis(50)));
        scheduler.start();
        return scheduler;
    }

    void stopScheduler() {
        scheduler.close();
    }

    /** A stage worker {@code modelId-suffix} (equal fixed speeds: even splits), not yet started. */
    StageWorker newWorker(String suffix) {
        WorkerSettings s = new WorkerSettings(modelId + "-" + suffix, modelId, model, kafka, "localhost", 8L << 30, 1,
                1.0, Duration.ofMillis(300), WorkerSettings.DEFAULT_MAX_BATCH_TOKENS, 64, WirePrecision.F32, 1 << 20,
                "java", 0, deliveryTimeout);
        return new StageWorker(db, s);
    }

    StageWorker startWorker(String suffix) throws Exception {
        StageWorker w = newWorker(suffix);
        w.start();
        workers.add(w);
        return w;
    }

    /** Closes worker {@code modelId-suffix} (it marks its own row stopped) and forgets it. */
    void stopWorker(String suffix) {
        StageWorker w = worker(modelId + "-" + suffix);
        w.close();
        workers.remove(w);
    }

    StageWorker worker(String id) {
        for (StageWorker w : workers) if (w.id().equals(id)) return w;
        return null;
    }

    /** Waits until a plan with {@code stages} stages and an epoch of at least {@code minEpoch} is loaded by its workers. */
    StagePlan awaitPlan(int stages, int minEpoch, Duration timeout) throws Exception {
        long end = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < end) {
            StagePlan p = scheduler.currentPlan();
            if (p != null && p.stages().size() == stages && p.epoch() >= minEpoch) {
                boolean loaded = true;
                for (StagePlan.Stage s : p.stages()) {
                    StageWorker w = worker(s.workerId());
                    loaded &= w != null && w.epoch() == p.epoch() && w.stage() != null;
                }
                if (loaded) return p;
            }
            assertNoWorkerFailed();
            Thread.sleep(50);
        }
        throw new AssertionError("no loaded " + stages + "-stage plan of epoch >= " + minEpoch + " for " + modelId
                + " within " + timeout + "; plan " + scheduler.currentPlan());
    }

    void assertNoWorkerFailed() {
        for (StageWorker w : workers) {
            if (w.failure() != null) throw new AssertionError("worker " + w.id() + " stopped", w.failure());
        }
    }

    @Override
    public void close() {
        if (scheduler != null) scheduler.close();
        for (StageWorker w : workers) w.close();
    }
}
