package dev.bunshin.worker;

import dev.bunshin.db.StagePlan;
import dev.bunshin.protocol.ActivationRecord;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * A stage worker's meters (Micrometer; the Quarkus edge hands in the registry that {@code /q/metrics} serves):
 * engine call time and positions per call by stage, the consumer lag of its stage's topic, resident and
 * advertised memory, the plan epoch it follows and the stage it runs. The tail's own meters are {@link #tail()}.
 * Every meter is tagged {@code worker}. Recording happens on the poll-loop thread; gauges are read by the scraper.
 */
final class WorkerMetrics {

    /** Engine calls: a decode step of a small model takes a millisecond, a long prefill chunk of a large one seconds. */
    static final Duration[] CALL_BUCKETS = millis(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 30000);
    /** Positions per engine call: powers of two up to beyond the default cap of 256. */
    static final double[] BATCH_BUCKETS = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048};
    /** The consumer's lag is read from it at most this often (a local computation, but on the hot loop). */
    static final long LAG_EVERY_NANOS = 1_000_000_000L;

    private final MeterRegistry registry;
    private final String worker;
    private final Supplier<StagePlan.Stage> stage;
    private final TailMetrics tail;
    /** The engine meters of the stage last called (a worker runs one stage at a time). */
    private int meteredStage = -1;
    private Timer callTime;
    private DistributionSummary callPositions;
    /** The lag gauge of the topic last read, its value, and when it was read. */
    private Gauge lagGauge;
    private volatile String lagTopic;
    private volatile double lag = Double.NaN;
    private long lagReadAt;

    /**
     * @param stage the stage the worker runs now, or null (read by the gauges at scrape time)
     * @param epoch the plan epoch the worker follows
     */
    WorkerMetrics(MeterRegistry registry, WorkerSettings settings, Supplier<StagePlan.Stage> stage, IntSupplier epoch) {
        this.registry = registry;
        this.worker = settings.id();
        this.stage = stage;
        this.tail = new TailMetrics(registry, worker);
        long advertised = settings.memoryBytes();
        Gauge.builder("bunshin.worker.memory.advertised", () -> advertised).baseUnit("bytes")
                .description("Memory the worker offers for weights (bunshin.worker.memory), as the planner sees it")
                .tag("worker", worker).register(registry);
        Gauge.builder("bunshin.worker.memory.resident", ProcessMemory::residentBytes).baseUnit("bytes")
                .description("Resident memory of the worker process (VmRSS of /proc/self/status; -1 if unknown)")
                .tag("worker", worker).register(registry);
        Gauge.builder("bunshin.worker.plan.epoch", epoch::getAsInt)
                .description("The stage plan epoch this worker has loaded (0 before its first)")
                .tag("worker", worker).register(registry);
        Gauge.builder("bunshin.worker.stage", () -> {
                    StagePlan.Stage s = stage.get();
                    return s == null ? -1 : s.index();
                })
                .description("The stage index this worker runs under its plan, -1 if none")
                .tag("worker", worker).register(registry);
    }

    /** Meters that record nothing: for a worker built without a registry (tests, tools). */
    static WorkerMetrics none(WorkerSettings settings) {
        return new WorkerMetrics(new CompositeMeterRegistry(), settings, () -> null, () -> 0);
    }

    TailMetrics tail() {
        return tail;
    }

    /** One engine call of stage {@code stageIndex} over {@code records}, which took {@code nanos}. */
    void engineCall(int stageIndex, List<ActivationRecord> records, long nanos) {
        if (stageIndex != meteredStage) {
            String s = Integer.toString(stageIndex);
            callTime = Timer.builder("bunshin.engine.call")
                    .description("Time of one engine call (forward pass of this stage's layers over a batch)")
                    .tags("worker", worker, "stage", s).serviceLevelObjectives(CALL_BUCKETS).register(registry);
            callPositions = DistributionSummary.builder("bunshin.engine.batch.positions")
                    .description("Positions (tokens) per engine call, over all the jobs in the call")
                    .tags("worker", worker, "stage", s).serviceLevelObjectives(BATCH_BUCKETS).register(registry);
            meteredStage = stageIndex;
        }
        int positions = 0;
        for (ActivationRecord r : records) positions += r.nTokens();
        callTime.record(nanos, TimeUnit.NANOSECONDS);
        callPositions.record(positions);
    }

    /**
     * The consumer of {@code stage}'s topic has {@code lag} records to go (end offset − position, summed over its
     * partitions; read at most once per {@link #LAG_EVERY_NANOS}). Poll-loop thread only: the consumer is not
     * thread-safe, so the scraper reads the last value, not the consumer.
     */
    void consumerLag(StagePlan.Stage stage, LongSupplier lag) {
        long now = System.nanoTime();
        if (!stage.topic().equals(lagTopic)) {
            if (lagGauge != null) registry.remove(lagGauge);
            lagGauge = Gauge.builder("bunshin.consumer.lag", this, m -> m.currentLag())
                    .description("Records in this worker's stage topic not yet consumed (end offset - position)")
                    .tags("worker", worker, "stage", Integer.toString(stage.index()), "topic", stage.topic())
                    .register(registry);
            lagTopic = stage.topic();
            lagReadAt = now - LAG_EVERY_NANOS;
        }
        if (now - lagReadAt < LAG_EVERY_NANOS) return;
        lagReadAt = now;
        long l = lag.getAsLong();
        this.lag = l < 0 ? Double.NaN : l;
    }

    /** The last lag read, or NaN while the worker has no stage (the topic's gauge is kept until the next one). */
    private double currentLag() {
        StagePlan.Stage s = stage.get();
        return s == null || !s.topic().equals(lagTopic) ? Double.NaN : lag;
    }

    private static Duration[] millis(long... values) {
        Duration[] out = new Duration[values.length];
        for (int i = 0; i < values.length; i++) out[i] = Duration.ofMillis(values[i]);
        return out;
    }
}
