package dev.bunshin.scheduler;

import dev.bunshin.db.JobStatus;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.sql.SQLException;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.*;

class ClusterMetricsTest {

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final AtomicInteger reads = new AtomicInteger();
    private volatile boolean down;

    private ClusterMetrics.Snapshot read() throws SQLException {
        if (down) throw new SQLException("connection refused", "08001");
        int n = reads.incrementAndGet();
        Map<JobStatus, Long> jobs = new EnumMap<>(JobStatus.class);
        for (JobStatus s : JobStatus.values()) jobs.put(s, 0L);
        jobs.put(JobStatus.QUEUED, 10L * n);
        jobs.put(JobStatus.COMPLETED, 3L);
        return new ClusterMetrics.Snapshot(jobs, Map.of("live", 2L, "lost", 1L, "stopped", 0L), 4, 2);
    }

    private double gauge(String name, String... tags) {
        return registry.get(name).tags("model", "m").tags(tags).gauge().value();
    }

    @Test
    void everyGaugeReadsOneSnapshotWhileItIsYoungerThanMaxAge() {
        new ClusterMetrics(registry, "m", this::read, Duration.ofSeconds(5), now::get);
        assertEquals(10.0, gauge("bunshin.jobs", "status", "queued"));
        assertEquals(10.0, gauge("bunshin.queue.depth"));
        assertEquals(3.0, gauge("bunshin.jobs", "status", "completed"));
        assertEquals(0.0, gauge("bunshin.jobs", "status", "failed"));
        assertEquals(4.0, gauge("bunshin.plan.epoch"));
        assertEquals(2.0, gauge("bunshin.plan.stages"));
        assertEquals(2.0, gauge("bunshin.workers", "status", "live"));
        assertEquals(1.0, gauge("bunshin.workers", "status", "lost"));
        assertEquals(1, reads.get(), "one read for a whole scrape");

        now.addAndGet(Duration.ofMillis(4_900).toNanos());
        assertEquals(10.0, gauge("bunshin.queue.depth"));
        assertEquals(1, reads.get(), "still fresh: no query");

        now.addAndGet(Duration.ofMillis(200).toNanos());
        assertEquals(20.0, gauge("bunshin.queue.depth"));
        assertEquals(2, reads.get());
    }

    @Test
    void theGaugesReadNanWhileTheDatabaseIsAwayAndRecoverAfter() {
        new ClusterMetrics(registry, "m", this::read, Duration.ofSeconds(5), now::get);
        down = true;
        assertTrue(Double.isNaN(gauge("bunshin.queue.depth")), "unknown, not a stale count");
        assertTrue(Double.isNaN(gauge("bunshin.workers", "status", "live")));
        down = false;
        now.addAndGet(Duration.ofSeconds(5).toNanos());
        assertEquals(10.0, gauge("bunshin.queue.depth"));
    }
}
