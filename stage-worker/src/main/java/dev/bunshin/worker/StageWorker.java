package dev.bunshin.worker;

import dev.bunshin.db.StagePlan;
import dev.bunshin.protocol.ActivationRecord;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import dev.bunshin.db.JobStatus;
import dev.bunshin.protocol.events.EventPublisher;
import dev.bunshin.protocol.events.JobEvent;
import org.apache.kafka.clients.producer.KafkaProducer;

import javax.sql.DataSource;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A stage worker without its framework. {@link #start()} registers in the {@code workers} table, heartbeats, and
 * runs the poll loop on its own thread: wait for an assignment in the current stage plan, load ONLY that layer
 * range, then poll → one engine call per batch of records from many jobs → produce to the next stage → commit.
 *
 * <p>At-least-once: offsets are committed only after every output record of the poll is acknowledged (awaited
 * while the next poll's first engine call runs: {@link RecordProcessor}). A redelivered record is harmless: each stage keeps
 * the next expected position per job and drops records it has already run; the tail's tokens are keyed by
 * position.
 *
 * <p>Errors in tiers ({@link ErrorTiers}): a record that cannot be decoded, that the engine refuses or that is too
 * large fails its job (jobs.error) and frees it everywhere; the database away or a lost race is waited out
 * ({@link DatabaseRetry}: the tail retries its transaction with the same tokens, the plan check skips, readiness
 * is DOWN meanwhile); anything else (Kafka fatal errors, engine bugs) stops the worker loudly: it marks itself
 * 'stopped', the scheduler re-plans without it and re-prefills its jobs elsewhere.
 *
 * <p>The parts: {@link PlanFollower} (which stage, which layers), {@link StageConsumer} (poll, drain, acknowledge),
 * {@link RecordProcessor} with {@link PositionLedger} and {@link EngineBatch} (the hot path), {@link KafkaClients},
 * {@link TailStage} (the last stage's sampling and token writes).
 */
public final class StageWorker implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(StageWorker.class.getName());
    /** How long a poll that brought part of a wave waits for the rest (see {@link StageConsumer#poll}). */
    private static final Duration WAVE_WAIT = Duration.ofMillis(5);

    private final DataSource db;
    private final WorkerSettings settings;
    private final WorkerRegistration registration;
    private final ScheduledExecutorService heartbeat;
    private final PositionLedger ledger = new PositionLedger();
    private final PlanFollower follower;
    private final DatabaseRetry database;
    private final WorkerStats stats = new WorkerStats(Duration.ofSeconds(10));
    private final WorkerMetrics metrics;
    private volatile boolean running;
    private volatile Throwable failure;
    private Thread thread;
    /** Job events (tokens, ends, failures) after each commit, while this worker runs the tail. */
    private final EventPublisher events;
    private Consumer<Throwable> onFatal = t -> { };
    /** The row was found not to be this process's; logged once. Heartbeat thread only. */
    private boolean goneLogged;

    /** A worker whose meters record nothing (tests, tools). */
    public StageWorker(DataSource db, WorkerSettings settings) {
        this(db, settings, new CompositeMeterRegistry());
    }

    /** A worker that records its meters ({@link WorkerMetrics}, {@link TailMetrics}) in {@code registry}. */
    public StageWorker(DataSource db, WorkerSettings settings, MeterRegistry registry) {
        this.db = db;
        this.settings = settings;
        this.registration = new WorkerRegistration(db, settings);
        this.database = new DatabaseRetry(settings.id(), () -> running);
        this.events = new EventPublisher(settings.bootstrapServers(), settings.kafkaCredentials());
        this.metrics = new WorkerMetrics(registry, settings, this::stage, this::epoch);
        this.follower = new PlanFollower(db, settings, registration, ledger, database, events, metrics.tail());
        this.heartbeat = Executors.newSingleThreadScheduledExecutor(
                r -> Thread.ofPlatform().name("bunshin-heartbeat-" + settings.id()).daemon().unstarted(r));
    }

    /** Called once if the worker stops on a fatal error (the Quarkus edge exits the process). */
    public void onFatal(Consumer<Throwable> callback) {
        this.onFatal = callback;
    }

    /**
     * Registers (refused with an {@link IllegalStateException} naming the id while another live process holds it),
     * starts heartbeating and runs the poll loop on its own thread.
     */
    public synchronized void start() throws SQLException, InterruptedException {
        if (thread != null) return;
        double speed = settings.speedGflops() > 0 ? settings.speedGflops()
                : SpeedProbe.measure(settings.backend(), settings.model(), settings.threads());
        registration.register(speed);
        LOG.info("worker " + settings.id() + " registered (" + String.format("%.2f", speed) + " GFLOPS, "
                + settings.memoryBytes() + " B)");
        long every = settings.heartbeat().toMillis();
        heartbeat.scheduleAtFixedRate(this::beat, every, every, TimeUnit.MILLISECONDS);
        running = true;
        thread = Thread.ofPlatform().name("bunshin-stage-" + settings.id()).start(this::loop);
    }

    /**
     * One heartbeat. While the database is away it fails (logged once, with the outage: the scheduler may mark this
     * worker lost after its timeout); when it is back, a row marked lost meanwhile is made live again, and the
     * scheduler re-plans with this worker or adopts its plan again (re-prefilling what needs it).
     */
    private void beat() {
        try {
            WorkerRegistration.Beat b = registration.heartbeat();
            database.succeeded();
            if (b == WorkerRegistration.Beat.REVIVED) {
                LOG.warning("worker " + settings.id() + " had been marked lost (silent past the scheduler's timeout): live again");
                goneLogged = false;
            } else if (b == WorkerRegistration.Beat.GONE && !goneLogged) {
                goneLogged = true;
                LOG.severe("worker " + settings.id() + ": its row is no longer this process's (incarnation "
                        + registration.incarnation() + "): another process took the id, or it was marked stopped");
            }
        } catch (SQLException e) {
            if (DatabaseRetry.isTransient(e)) database.failed("heartbeat", e);
            else LOG.warning("worker " + settings.id() + ": heartbeat failed: " + e);
        } catch (RuntimeException e) {
            LOG.warning("worker " + settings.id() + ": heartbeat failed: " + e);
        }
    }

    public String id() {
        return settings.id();
    }

    /** The stage this worker runs under the plan it has loaded, or null. */
    public StagePlan.Stage stage() {
        RecordProcessor.Assignment a = follower.assignment();
        return a == null ? null : a.stage();
    }

    public int epoch() {
        return follower.epoch();
    }

    public Throwable failure() {
        return failure;
    }

    /** Why the database is unavailable to this worker (it retries meanwhile), or null while it answers. */
    public String databaseOutage() {
        return database.outage();
    }

    /** Jobs with a KV cache on this stage (freed when jobs end or are cancelled). */
    public int sequenceCount() {
        return ledger.size();
    }

    private void loop() {
        KafkaProducer<Long, ActivationRecord> producer = null;
        try {
            producer = KafkaClients.producer(settings);
            RecordProcessor processor = new RecordProcessor(settings, ledger, producer,
                    (job, error) -> database.untilDone("fail job " + job, () -> {
                        if (TailStage.failJobRow(db, job, error)) {
                            events.publish(JobEvent.status(job, JobStatus.FAILED.sql()));
                        }
                        return null;
                    }), stats, metrics, () -> running, true);
            while (running) {
                follower.refresh();
                RecordProcessor.Assignment a = follower.assignment();
                if (a == null) {
                    Thread.sleep(50);
                    continue;
                }
                StageConsumer consumer = follower.consumer();
                List<ConsumerRecord<byte[], byte[]>> records = consumer.poll(Duration.ofMillis(50),
                        processor.waveSize(a), WAVE_WAIT);
                metrics.consumerLag(a.stage(), consumer::lag);
                if (!records.isEmpty()) {
                    long now = System.currentTimeMillis();
                    for (ConsumerRecord<byte[], byte[]> cr : records) stats.arrived(now - cr.timestamp());
                    RecordProcessor.Result r = processor.process(records, a);
                    consumer.acknowledge(r.done());
                    if (!r.rewind().isEmpty()) {
                        consumer.rewind(r.rewind());
                        follower.checkSoon();
                    }
                } else if (processor.hasPending()) {
                    // Nothing came: the last poll's acknowledgements are surely in by now; its offsets may go.
                    consumer.acknowledge(processor.settle());
                }
                stats.maybeLog(settings.id(), a.stage().index());
            }
        } catch (InterruptedException | org.apache.kafka.common.errors.InterruptException e) {
            // close() asked us to stop
        } catch (Throwable t) {
            fatal(t);
        } finally {
            follower.close();
            PlanFollower.closeQuietly(producer);
            events.close();
        }
    }

    private void fatal(Throwable t) {
        failure = t;
        running = false;
        LOG.log(Level.SEVERE, "STAGE WORKER " + settings.id() + " STOPPING: " + t, t);
        heartbeat.shutdownNow();
        try {
            registration.stopped(String.valueOf(t));
        } catch (Exception e) {
            LOG.warning("worker " + settings.id() + ": could not mark itself stopped: " + e);
        }
        onFatal.accept(t);
    }

    @Override
    public void close() {
        running = false;
        heartbeat.shutdownNow();
        Thread t = thread;
        if (t != null) {
            try {
                t.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (failure == null) {
            try {
                registration.stopped(null);
            } catch (Exception e) {
                LOG.warning("worker " + settings.id() + ": could not mark itself stopped: " + e);
            }
        }
    }
}
