package dev.bunshin.e2e;

import dev.bunshin.db.StagePlan;
import dev.bunshin.protocol.WirePrecision;
import dev.bunshin.scheduler.SchedulerService;
import dev.bunshin.scheduler.SchedulerSettings;
import dev.bunshin.worker.StageWorker;
import dev.bunshin.worker.WorkerSettings;

import javax.sql.DataSource;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** A scheduler and N stage workers for one model id, as plain services in this JVM, over the shared Infra. */
final class Pipeline implements AutoCloseable {

    final String modelId;
    final SchedulerService scheduler;
    final List<StageWorker> workers = new ArrayList<>();

    Pipeline(Infra infra, String modelId, Path model, int nWorkers, int maxRecordBytes) throws Exception {
        this(infra, modelId, model, nWorkers, maxRecordBytes, 0, 32);
    }

    /**
     * @param contextLength positions per job, 0 = the model's
     * @param maxRunning    jobs running at once
     */
    Pipeline(Infra infra, String modelId, Path model, int nWorkers, int maxRecordBytes, int contextLength,
             int maxRunning) throws Exception {
        this(infra, modelId, model, nWorkers, maxRecordBytes, contextLength, maxRunning, Duration.ofMillis(50));
    }

    /** @param tick how often the scheduler ticks when nothing notifies it */
    Pipeline(Infra infra, String modelId, Path model, int nWorkers, int maxRecordBytes, int contextLength,
             int maxRunning, Duration tick) throws Exception {
        this(infra, modelId, model, Collections.nCopies(nWorkers, "java"), maxRecordBytes, contextLength,
                maxRunning, tick);
    }

    /** One worker per entry of {@code backends} ("java", "llama.cpp"), in that order. */
    Pipeline(Infra infra, String modelId, Path model, List<String> backends, int maxRecordBytes, int contextLength,
             int maxRunning, Duration tick) throws Exception {
        int nWorkers = backends.size();
        this.backends = List.copyOf(backends);
        this.modelId = modelId;
        DataSource db = infra.db;
        String kafka = infra.kafka.bootstrapServers();
        scheduler = new SchedulerService(db, new SchedulerSettings(modelId, model, kafka, nWorkers,
                Duration.ofSeconds(60), Duration.ofSeconds(5), maxRunning, 4, (short) -1, maxRecordBytes, contextLength, 8192,
                tick));
        this.db = db;
        this.kafka = kafka;
        this.model = model;
        this.maxRecordBytes = maxRecordBytes;
        for (int i = 0; i < nWorkers; i++) addWorker("w" + i);
        scheduler.start();
    }

    private final DataSource db;
    private final String kafka;
    private final Path model;
    private final int maxRecordBytes;
    private final List<String> backends;

    /** Starts one more worker (it registers; the scheduler re-plans with it). */
    StageWorker addWorker(String suffix) throws Exception {
        String backend = workers.size() < backends.size() ? backends.get(workers.size()) : "java";
        // Equal fixed speeds: the plan splits the layers evenly whatever else the machine is doing.
        WorkerSettings s = new WorkerSettings(modelId + "-" + suffix, modelId, model, kafka, "localhost", 8L << 30, 1,
                1.0, Duration.ofMillis(300), WorkerSettings.DEFAULT_MAX_BATCH_TOKENS, 64, WirePrecision.F32, maxRecordBytes, backend, 0);
        StageWorker w = new StageWorker(db, s);
        workers.add(w);
        w.start();
        return w;
    }

    /** Waits until a plan with {@code stages} stages is loaded by every worker in it. */
    StagePlan awaitPlan(int stages, Duration timeout) throws Exception {
        long end = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < end) {
            StagePlan p = scheduler.currentPlan();
            if (p != null && p.stages().size() == stages) {
                boolean loaded = true;
                for (StagePlan.Stage s : p.stages()) {
                    StageWorker w = worker(s.workerId());
                    loaded &= w != null && w.epoch() == p.epoch() && w.stage() != null;
                }
                if (loaded) return p;
            }
            for (StageWorker w : workers) {
                if (w.failure() != null) throw new AssertionError("worker " + w.id() + " failed", w.failure());
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no loaded " + stages + "-stage plan for " + modelId + " within " + timeout
                + "; plan " + scheduler.currentPlan() + ", planner error " + scheduler.lastPlanError());
    }

    StageWorker worker(String id) {
        for (StageWorker w : workers) if (w.id().equals(id)) return w;
        return null;
    }

    @Override
    public void close() {
        scheduler.close();
        for (StageWorker w : workers) w.close();
    }
}
