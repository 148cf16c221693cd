package dev.bunshin.submitter.jobs;

import dev.bunshin.db.PgListener;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import javax.sql.DataSource;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Wakes the streams that follow a job when the database says the job changed: a {@link PgListener} on
 * {@code bunshin_job_events} (sent by the triggers of migration V11 on every committed token and status change)
 * signals the watchers of that job id. {@link TokenFeed} reads the rows itself; this only tells it when.
 *
 * <p>Without the listener (not connected yet, connection lost, or {@code bunshin.api.listen=false}) the streams
 * fall back to polling, so a lost notification costs latency, never tokens.
 */
@ApplicationScoped
public class JobEvents {
    public static final String CHANNEL = PgListener.JOB_EVENTS;
    private static final Logger LOG = Logger.getLogger(JobEvents.class);

    /** A job's change counter; {@link TokenFeed} waits for it to move past the value it last read. */
    public static final class Watch implements AutoCloseable {
        private final JobEvents owner;
        private final long jobId;
        private long version;
        private int users;

        private Watch(JobEvents owner, long jobId) {
            this.owner = owner;
            this.jobId = jobId;
        }

        public synchronized long version() {
            return version;
        }

        synchronized void bump() {
            version++;
            notifyAll();
        }

        /** Waits until the version differs from {@code seen} or {@code maxMillis} pass. */
        public synchronized void await(long seen, long maxMillis) throws InterruptedException {
            long deadline = System.nanoTime() + maxMillis * 1_000_000;
            long left;
            while (version == seen && (left = deadline - System.nanoTime()) > 0) {
                wait(Math.max(1, left / 1_000_000));
            }
        }

        @Override
        public void close() {
            owner.watches.computeIfPresent(jobId, (id, w) -> --w.users == 0 ? null : w);
        }
    }

    private final ConcurrentHashMap<Long, Watch> watches = new ConcurrentHashMap<>();
    private final DataSource db;
    private final boolean enabled;
    private PgListener listener;

    JobEvents(DataSource db, @ConfigProperty(name = "bunshin.api.listen", defaultValue = "true") boolean enabled) {
        this.db = db;
        this.enabled = enabled;
    }

    void start(@Observes StartupEvent event) {
        if (!enabled) {
            LOG.info("bunshin.api.listen=false: streams poll the database");
            return;
        }
        listener = new PgListener(db, "bunshin-job-events", List.of(CHANNEL), (channel, payload) -> {
            if (channel == null) {
                watches.values().forEach(Watch::bump); // (re)connected: let every stream re-read
            } else {
                signal(payload);
            }
        });
    }

    void stop(@Observes ShutdownEvent event) {
        if (listener != null) {
            listener.close();
        }
    }

    /** Whether notifications are arriving now (else a waiting stream should poll). */
    public boolean listening() {
        return listener != null && listener.listening();
    }

    /** Starts watching a job; close the watch when the stream ends. */
    public Watch watch(long jobId) {
        return watches.compute(jobId, (id, w) -> {
            Watch x = w != null ? w : new Watch(this, id);
            x.users++;
            return x;
        });
    }

    private void signal(String payload) {
        long id;
        try {
            id = Long.parseLong(payload);
        } catch (NumberFormatException e) {
            LOG.warnf("ignoring a %s notification with payload %s", CHANNEL, payload);
            return;
        }
        Watch w = watches.get(id);
        if (w != null) {
            w.bump();
        }
    }
}
