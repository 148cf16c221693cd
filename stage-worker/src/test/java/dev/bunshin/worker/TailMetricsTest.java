package dev.bunshin.worker;

import dev.bunshin.db.JobsTable;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

class TailMetricsTest {

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final TailMetrics metrics = new TailMetrics(registry, "w-2");

    private static JobsTable.Token token(int position, String finish) {
        return new JobsTable.Token(7, position, 100 + position, "x", finish, finish == null ? null : "xxx");
    }

    @Test
    void theFirstTokenIsTimedFromTheJobsCreationAndEachNextOneFromThePrevious() throws Exception {
        TailMetrics.JobClock job = new TailMetrics.JobClock();
        job.created(2.5); // queued 2.5 s ago, by the database's clock
        metrics.committed(job, token(0, null));
        Thread.sleep(20);
        metrics.committed(job, token(1, null));
        metrics.committed(job, token(2, "length"));

        assertEquals(3.0, registry.get("bunshin.tokens.generated").tags("worker", "w-2").counter().count());
        Timer ttft = registry.get("bunshin.time.to.first.token").timer();
        assertEquals(1, ttft.count());
        assertEquals(2.5, ttft.totalTime(TimeUnit.SECONDS), 0.5);
        Timer perToken = registry.get("bunshin.token.latency").timer();
        assertEquals(2, perToken.count());
        assertTrue(perToken.max(TimeUnit.MILLISECONDS) >= 20, "token 0 → 1 took the sleep: " + perToken.max(TimeUnit.MILLISECONDS));
        assertEquals(1.0, registry.get("bunshin.jobs.completed").tags("finish_reason", "length").counter().count());
        assertNull(registry.find("bunshin.jobs.completed").tags("finish_reason", "stop").counter());
    }

    @Test
    void aReloadedJobsFirstTokenHereIsNotAnInterval() {
        TailMetrics.JobClock reloaded = new TailMetrics.JobClock(); // tokens 0..4 stored before a new plan
        reloaded.created(10);
        metrics.committed(reloaded, token(5, null));
        metrics.committed(reloaded, token(6, "stop"));

        assertEquals(2.0, registry.get("bunshin.tokens.generated").counter().count());
        assertEquals(0, registry.get("bunshin.time.to.first.token").timer().count(), "not its first token");
        assertEquals(1, registry.get("bunshin.token.latency").timer().count(), "5 → 6 only");
        assertEquals(1.0, registry.get("bunshin.jobs.completed").tags("finish_reason", "stop").counter().count());
    }
}
