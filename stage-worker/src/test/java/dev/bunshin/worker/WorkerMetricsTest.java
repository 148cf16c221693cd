package dev.bunshin.worker;

import dev.bunshin.db.StagePlan;
import dev.bunshin.protocol.ActivationRecord;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.*;

class WorkerMetricsTest {

    private static final WorkerSettings SETTINGS = WorkerSettings.of("w-1", "m", Path.of("m.gguf"), "localhost:9092");
    private static final StagePlan.Stage STAGE_0 = new StagePlan.Stage(0, "w-1", 0, 4, "bunshin.m.stage-0");
    private static final StagePlan.Stage STAGE_1 = new StagePlan.Stage(1, "w-1", 4, 8, "bunshin.m.stage-1");

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final AtomicReference<StagePlan.Stage> stage = new AtomicReference<>();
    private final AtomicInteger epoch = new AtomicInteger();
    private final WorkerMetrics metrics = new WorkerMetrics(registry, SETTINGS, stage::get, epoch::get);

    @Test
    void engineCallsAreTimedAndSizedInPositionsPerStage() {
        metrics.engineCall(0, List.of(ActivationRecord.prefill(1, 1, 0, 0, 1, new int[] {1, 2, 3}),
                ActivationRecord.decode(2, 1, 7, 5)), 3_000_000);
        metrics.engineCall(0, List.of(ActivationRecord.decode(2, 1, 8, 6)), 1_000_000);
        metrics.engineCall(1, List.of(ActivationRecord.decode(2, 2, 9, 6)), 5_000_000);

        Timer call0 = registry.get("bunshin.engine.call").tags("worker", "w-1", "stage", "0").timer();
        assertEquals(2, call0.count());
        assertEquals(4.0, call0.totalTime(TimeUnit.MILLISECONDS), 1e-9);
        DistributionSummary positions0 = registry.get("bunshin.engine.batch.positions").tags("stage", "0").summary();
        assertEquals(2, positions0.count());
        assertEquals(5.0, positions0.totalAmount(), "3 prefill positions + 1 decode, then 1 decode");
        assertEquals(4.0, positions0.max());
        assertEquals(1, registry.get("bunshin.engine.call").tags("stage", "1").timer().count());
    }

    @Test
    void consumerLagIsTheLastValueReadForTheStageRunNowAndUnknownWithoutOne() {
        stage.set(STAGE_0);
        metrics.consumerLag(STAGE_0, () -> 42);
        Gauge lag0 = registry.get("bunshin.consumer.lag").tags("stage", "0", "topic", STAGE_0.topic()).gauge();
        assertEquals(42.0, lag0.value());
        metrics.consumerLag(STAGE_0, () -> { throw new AssertionError("read again within a second"); });
        assertEquals(42.0, lag0.value());

        stage.set(null);
        assertTrue(Double.isNaN(lag0.value()), "no stage, no lag");

        stage.set(STAGE_1);
        metrics.consumerLag(STAGE_1, () -> -1); // no partition's lag known yet
        assertNull(registry.find("bunshin.consumer.lag").tags("stage", "0").gauge(), "the old topic's gauge is gone");
        assertTrue(Double.isNaN(registry.get("bunshin.consumer.lag").tags("stage", "1").gauge().value()));
    }

    @Test
    void gaugesFollowTheWorkersPlanAndMemory() {
        assertEquals(SETTINGS.memoryBytes(), registry.get("bunshin.worker.memory.advertised").gauge().value());
        double rss = registry.get("bunshin.worker.memory.resident").gauge().value();
        if (java.nio.file.Files.exists(Path.of("/proc/self/status"))) {
            assertTrue(rss > 1 << 20, "a JVM's resident memory is more than 1 MiB: " + rss);
        }
        assertEquals(0.0, registry.get("bunshin.worker.plan.epoch").gauge().value());
        assertEquals(-1.0, registry.get("bunshin.worker.stage").gauge().value());
        epoch.set(3);
        stage.set(STAGE_1);
        assertEquals(3.0, registry.get("bunshin.worker.plan.epoch").gauge().value());
        assertEquals(1.0, registry.get("bunshin.worker.stage").gauge().value());
    }

    @Test
    void noneRecordsNothingAndFailsNothing() {
        WorkerMetrics none = WorkerMetrics.none(SETTINGS);
        none.engineCall(0, List.of(ActivationRecord.decode(1, 1, 0, 1)), 1);
        none.consumerLag(STAGE_0, () -> 1);
    }
}
