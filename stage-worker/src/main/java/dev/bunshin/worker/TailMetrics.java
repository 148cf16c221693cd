package dev.bunshin.worker;

import dev.bunshin.db.JobsTable;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * What the tail stage measures as it commits tokens: tokens generated, time to first token (job created → first
 * token committed), the time between a job's successive committed tokens, and jobs completed by finish reason.
 * The tail calls {@link #committed} once per token its transaction stored, after the commit. Only the poll-loop
 * thread calls it.
 */
final class TailMetrics {

    /** Time to first token includes the wait in the queue: from tens of milliseconds to minutes. */
    static final Duration[] TTFT_BUCKETS = seconds(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300);
    /** Per-token latency: one trip round the pipeline; milliseconds for small models, seconds for large ones. */
    static final Duration[] TOKEN_BUCKETS = seconds(0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10);

    private final MeterRegistry registry;
    private final String worker;
    private final Counter tokens;
    private final Timer firstToken;
    private final Timer perToken;

    TailMetrics(MeterRegistry registry, String worker) {
        this.registry = registry;
        this.worker = worker;
        this.tokens = Counter.builder("bunshin.tokens.generated")
                .description("Generated tokens committed to the database by this tail")
                .tag("worker", worker).register(registry);
        this.firstToken = Timer.builder("bunshin.time.to.first.token")
                .description("Job created (queued) to its first token committed, on the database's clock")
                .tag("worker", worker).serviceLevelObjectives(TTFT_BUCKETS).register(registry);
        this.perToken = Timer.builder("bunshin.token.latency")
                .description("Time between a job's successive committed tokens")
                .tag("worker", worker).serviceLevelObjectives(TOKEN_BUCKETS).register(registry);
    }

    /**
     * When one job was created and when this tail last committed a token of it, in this JVM's
     * {@link System#nanoTime()}. Part of the tail's cached state of the job ({@link TailJob}): rebuilt when the job
     * is reloaded, with no last commit then.
     */
    static final class JobClock {
        long createdNanos;
        /** 0 until this tail commits a token of the job. */
        long lastCommitNanos;

        /** The job was {@code ageSeconds} old now (its age on the database's clock: no trust in clock sync). */
        void created(double ageSeconds) {
            createdNanos = System.nanoTime() - (long) (ageSeconds * 1e9);
        }
    }

    /** Token {@code t} of the job timed by {@code job} is committed (its row updated, the token stored). */
    void committed(JobClock job, JobsTable.Token t) {
        long now = System.nanoTime();
        tokens.increment();
        if (t.position() == 0) {
            firstToken.record(now - job.createdNanos, TimeUnit.NANOSECONDS);
        } else if (job.lastCommitNanos != 0) {
            perToken.record(now - job.lastCommitNanos, TimeUnit.NANOSECONDS);
        } // else the job was reloaded since its last token (a new plan, a restart): no interval to measure
        job.lastCommitNanos = now;
        if (t.ends()) {
            Counter.builder("bunshin.jobs.completed")
                    .description("Jobs this tail completed, by finish reason (stop, length)")
                    .tags("worker", worker, "finish_reason", t.finishReason()).register(registry).increment();
        }
    }

    private static Duration[] seconds(double... values) {
        Duration[] out = new Duration[values.length];
        for (int i = 0; i < values.length; i++) out[i] = Duration.ofNanos(Math.round(values[i] * 1e9));
        return out;
    }
}
