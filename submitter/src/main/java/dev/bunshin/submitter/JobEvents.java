package dev.bunshin.submitter;

import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Wakes the streams that follow a job when the database says the job changed: one connection LISTENs on
 * {@code bunshin_job_events} (sent by the triggers of migration V11 on every committed token and status change)
 * and signals the watchers of that job id. {@link TokenFeed} reads the rows itself; this only tells it when.
 *
 * <p>Without the listener (not connected yet, connection lost, or {@code bunshin.api.listen=false}) the streams
 * fall back to polling, so a lost notification costs latency, never tokens.
 */
@ApplicationScoped
public class JobEvents {
    static final String CHANNEL = "bunshin_job_events";
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
    private final boolean enabled;
    private final String url;
    private final String user;
    private final String password;
    private volatile boolean listening;
    private volatile boolean stopped;
    private Thread thread;

    JobEvents(@ConfigProperty(name = "bunshin.api.listen", defaultValue = "true") boolean enabled,
              @ConfigProperty(name = "quarkus.datasource.jdbc.url") String url,
              @ConfigProperty(name = "quarkus.datasource.username", defaultValue = "") String user,
              @ConfigProperty(name = "quarkus.datasource.password", defaultValue = "") String password) {
        this.enabled = enabled;
        this.url = url;
        this.user = user;
        this.password = password;
    }

    void start(@Observes StartupEvent event) {
        if (!enabled) {
            LOG.info("bunshin.api.listen=false: streams poll the database");
            return;
        }
        thread = Thread.ofPlatform().daemon().name("bunshin-job-events").start(this::run);
    }

    void stop(@Observes ShutdownEvent event) {
        stopped = true;
        if (thread != null) {
            thread.interrupt();
        }
    }

    /** Whether notifications are arriving now (else a waiting stream should poll). */
    public boolean listening() {
        return listening;
    }

    /** Starts watching a job; close the watch when the stream ends. */
    public Watch watch(long jobId) {
        return watches.compute(jobId, (id, w) -> {
            Watch x = w != null ? w : new Watch(this, id);
            x.users++;
            return x;
        });
    }

    private void run() {
        long backoff = 250;
        while (!stopped) {
            try (Connection c = DriverManager.getConnection(url, user, password)) {
                try (Statement s = c.createStatement()) {
                    s.execute("LISTEN " + CHANNEL);
                }
                PGConnection pg = c.unwrap(PGConnection.class);
                listening = true;
                backoff = 250;
                LOG.debugf("listening on %s", CHANNEL);
                watches.values().forEach(Watch::bump); // anything committed before LISTEN: let every stream re-read
                while (!stopped) {
                    PGNotification[] ns = pg.getNotifications(500);
                    if (ns == null) {
                        continue;
                    }
                    for (PGNotification n : ns) {
                        signal(n.getParameter());
                    }
                }
            } catch (SQLException e) {
                if (stopped) {
                    return;
                }
                if (listening) {
                    LOG.warnf("lost the %s listener (%s); streams poll until it is back", CHANNEL, e.getMessage());
                }
            } finally {
                listening = false;
            }
            try {
                Thread.sleep(backoff);
            } catch (InterruptedException e) {
                return;
            }
            backoff = Math.min(5_000, backoff * 2);
        }
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
