package dev.bunshin.scheduler;

import dev.bunshin.db.PgListener;
import dev.bunshin.db.WorkerInfo;
import dev.bunshin.db.WorkersTable;
import dev.bunshin.protocol.Chunking;
import dev.bunshin.db.PlanTable;
import dev.bunshin.db.StagePlan;
import dev.bunshin.protocol.WirePrecision;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The scheduler without its framework: one {@link #tick()} expires silent workers, (re-)plans the stages when the
 * live workers change, and once every stage has loaded the plan, re-prefills jobs of older plans and dispatches
 * queued jobs. {@link #start()} runs ticks on a daemon thread, every {@code tick} and at once when the database
 * notifies a change it acts on (a job queued or ended, a worker joined, loaded or gone: migration V12); tests can
 * make N of these or call tick() directly.
 */
public final class SchedulerService implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(SchedulerService.class.getName());

    private final DataSource db;
    private final SchedulerSettings settings;
    private final ModelShape shape;
    private final int contextLength;
    private final TopicAdmin topics;
    private final JobDispatcher dispatcher;
    private volatile boolean running;
    private Thread thread;
    private PgListener listener;
    /** Notifications since the loop last looked; guarded by {@code this.wake}. */
    private final Object wake = new Object();
    private long wakeups;
    /** Ticks the loop has run (tests: an idle scheduler ticks about once per {@code tick}). */
    private final java.util.concurrent.atomic.AtomicLong ticks = new java.util.concurrent.atomic.AtomicLong();
    /** Live worker ids the current plan was made from; null until this scheduler has planned or adopted one. */
    private Set<String> plannedFrom;
    private long firstWorkerSeenAt;
    private volatile String lastPlanError;

    public SchedulerService(DataSource db, SchedulerSettings settings) throws Exception {
        this.db = db;
        this.settings = settings;
        this.shape = ModelShape.read(settings.model());
        this.contextLength = settings.contextLength() > 0 ? settings.contextLength()
                : Math.min(shape.contextLength(), SchedulerSettings.DEFAULT_MAX_CONTEXT);
        // Chunks keep their size through every stage: size them for F32 activations, the widest precision.
        int perRecord = Chunking.tokensPerRecord(shape.info().nEmbd(), WirePrecision.F32, settings.maxRecordBytes());
        this.topics = new TopicAdmin(settings.bootstrapServers(), settings.partitions(), settings.replicationFactor(),
                settings.maxRecordBytes());
        this.dispatcher = new JobDispatcher(db, settings, contextLength, perRecord);
    }

    public synchronized void start() {
        if (thread != null) return;
        running = true;
        listener = new PgListener(db, "bunshin-scheduler-listen", List.of(PgListener.SCHEDULER), (ch, payload) -> {
            synchronized (wake) {
                wakeups++;
                wake.notifyAll();
            }
        });
        thread = Thread.ofPlatform().name("bunshin-scheduler").daemon().start(this::loop);
    }

    private void loop() {
        long seen = 0;
        long failingSince = 0; // System.nanoTime() of the first failed tick in a row, or 0
        while (running) {
            try {
                ticks.incrementAndGet();
                tick();
                if (failingSince != 0) {
                    LOG.warning("scheduler ticks again after " + String.format("%.1f", (System.nanoTime() - failingSince) / 1e9)
                            + " s of failures");
                    failingSince = 0;
                }
            } catch (Exception e) {
                // Kafka or the database is unavailable: keep trying, the next tick starts from the tables again.
                // Logged once per outage (every tick of one would flood the log), the rest at FINE.
                if (failingSince == 0) {
                    failingSince = System.nanoTime();
                    LOG.log(Level.WARNING, "scheduler tick failed; retrying every tick until it succeeds", e);
                } else {
                    LOG.log(Level.FINE, "scheduler tick failed", e);
                }
            }
            try {
                synchronized (wake) {
                    // Notifications that came during the tick count: the tick may have read the tables before them.
                    long deadline = System.nanoTime() + settings.tick().toNanos();
                    long left;
                    while (wakeups == seen && running && (left = deadline - System.nanoTime()) > 0) {
                        wake.wait(Math.max(1, left / 1_000_000));
                    }
                    seen = wakeups;
                }
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** Ticks the loop has run so far. */
    public long ticks() {
        return ticks.get();
    }

    /** One round of expire → plan → dispatch. */
    public synchronized void tick() throws Exception {
        List<WorkerInfo> live;
        Map<String, String> incarnations;
        StagePlan plan;
        Map<String, String> planIncarnations;
        try (Connection c = db.getConnection()) {
            for (String id : WorkersTable.expireSilent(c, settings.modelId(), settings.heartbeatTimeout())) {
                LOG.warning("worker " + id + " lost: no heartbeat for " + settings.heartbeatTimeout());
            }
            live = WorkersTable.live(c, settings.modelId());
            incarnations = WorkersTable.liveIncarnations(c, settings.modelId());
            plan = PlanTable.current(c, settings.modelId());
            planIncarnations = plan == null ? Map.of() : PlanTable.incarnations(c, settings.modelId(), plan.epoch());
        }
        plan = maybePlan(plan, planIncarnations, live, incarnations);
        if (plan == null || !isLoaded(plan, live)) return;
        dispatcher.reprefill(plan);
        dispatcher.dispatchQueued(plan);
    }

    /** The current plan, or null; why the last planning attempt failed, or null. */
    public StagePlan currentPlan() throws SQLException {
        try (Connection c = db.getConnection()) {
            return PlanTable.current(c, settings.modelId());
        }
    }

    public String lastPlanError() {
        return lastPlanError;
    }

    /**
     * The plan to run: the current one while the live workers are the incarnations it was made from, else a new
     * epoch (every running job is then re-prefilled). A restarted scheduler adopts the stored plan only if every
     * stage's worker is live with the incarnation recorded in it (V17): a worker that restarted since has no KV
     * caches, and adopting the plan would leave its jobs running forever.
     *
     * @param planIncarnations the incarnation each stage's worker had when {@code plan} was made, by worker id
     * @param incarnations     the live workers' incarnations, by worker id
     */
    private StagePlan maybePlan(StagePlan plan, Map<String, String> planIncarnations, List<WorkerInfo> live,
                                Map<String, String> incarnations) throws Exception {
        Set<String> liveIds = new HashSet<>();
        Set<String> current = new HashSet<>();
        for (WorkerInfo w : live) {
            liveIds.add(w.id());
            current.add(w.id() + "@" + incarnations.get(w.id()));
        }
        if (plan != null) {
            // A plan made for another context length (bunshin.context-length changed across a restart) is replaced.
            boolean planWorkersLive = plan.contextLength() == contextLength
                    && plan.stages().stream().allMatch(s -> liveIds.contains(s.workerId()));
            if (plannedFrom == null && planWorkersLive) {
                boolean sameProcesses = plan.stages().stream().allMatch(s -> planIncarnations.get(s.workerId()) != null
                        && planIncarnations.get(s.workerId()).equals(incarnations.get(s.workerId())));
                if (sameProcesses) {
                    plannedFrom = current; // after a scheduler restart: the same worker processes, caches and all
                } else {
                    LOG.info("plan epoch " + plan.epoch() + " was made for other processes of its workers "
                            + "(restarted since, without their KV caches): re-planning");
                }
            }
            // A new worker, or a worker that restarted (and so lost its KV caches), means a new plan.
            if (planWorkersLive && plannedFrom != null && plannedFrom.containsAll(current)) {
                plannedFrom.retainAll(current);
                return plan;
            }
        } else {
            if (live.isEmpty()) return null;
            if (firstWorkerSeenAt == 0) firstWorkerSeenAt = System.currentTimeMillis();
            boolean graceOver = System.currentTimeMillis() - firstWorkerSeenAt >= settings.grace().toMillis();
            if (live.size() < settings.expectedWorkers() && !graceOver) return null;
        }
        if (live.isEmpty()) {
            return plan; // nothing to plan with; jobs wait until a worker comes back
        }
        int epoch = plan == null ? 1 : plan.epoch() + 1;
        StagePlan next;
        try {
            next = Planning.plan(settings.modelId(), epoch, live, shape, contextLength);
            lastPlanError = null;
        } catch (IllegalArgumentException e) { // PlanException: the live workers cannot hold the model
            if (!e.getMessage().equals(lastPlanError)) LOG.severe(e.getMessage());
            lastPlanError = e.getMessage();
            return plan;
        }
        List<String> names = new ArrayList<>();
        for (StagePlan.Stage s : next.stages()) names.add(s.topic());
        topics.ensure(names);
        try (Connection c = db.getConnection()) {
            PlanTable.insert(c, next, incarnations);
        }
        plannedFrom = current;
        LOG.info("plan epoch " + epoch + " for " + settings.modelId() + ": " + describe(next));
        return next;
    }

    private static String describe(StagePlan plan) {
        StringBuilder sb = new StringBuilder();
        for (StagePlan.Stage s : plan.stages()) {
            sb.append(" stage ").append(s.index()).append(" = ").append(s.workerId())
                    .append(" [").append(s.layerStart()).append(", ").append(s.layerEnd()).append(")");
        }
        return sb.toString().trim();
    }

    private static boolean isLoaded(StagePlan plan, List<WorkerInfo> live) {
        for (StagePlan.Stage s : plan.stages()) {
            boolean loaded = live.stream().anyMatch(w -> w.id().equals(s.workerId()) && w.loadedEpoch() == plan.epoch());
            if (!loaded) return false;
        }
        return true;
    }

    @Override
    public void close() {
        running = false;
        if (listener != null) {
            listener.close();
        }
        Thread t = thread;
        if (t != null) {
            t.interrupt();
            try {
                t.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        dispatcher.close();
        topics.close();
    }
}
