package dev.bunshin.db;

import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One connection that {@code LISTEN}s on PostgreSQL channels and hands every notification to a callback, on its
 * own daemon thread; it reconnects with backoff when the connection breaks. The channels and what sends on them
 * are in the migrations ({@link #JOB_EVENTS}, {@link #SCHEDULER}).
 *
 * <p>Notifications only tell when to look: whoever listens must still read the tables, and must poll while
 * {@link #listening()} is false, so a lost notification costs latency, never data. After every (re)connect the
 * callback gets a notification with a null channel: anything committed before LISTEN may have been missed.
 */
public final class PgListener implements AutoCloseable {
    /**
     * V11: the id of a job with a new token or a new status. V19 dropped its triggers (streams follow events on
     * Kafka now); {@code bench events} puts them back in a scratch database to measure the two side by side.
     */
    public static final String JOB_EVENTS = "bunshin_job_events";
    /** V12: jobs queued or ended, workers joined or gone: a reason for the scheduler to tick now. */
    public static final String SCHEDULER = "bunshin_scheduler";

    private static final Logger LOG = Logger.getLogger(PgListener.class.getName());

    private final DataSource db;
    private final List<String> channels;
    private final BiConsumer<String, String> callback;
    private final Thread thread;
    private volatile boolean listening;
    private volatile boolean closed;

    /**
     * Starts listening at once.
     *
     * @param callback (channel, payload) per notification; (null, null) after each (re)connect
     */
    public PgListener(DataSource db, String name, List<String> channels, BiConsumer<String, String> callback) {
        for (String ch : channels) {
            if (!ch.matches("[a-z_]+")) {
                throw new IllegalArgumentException("channel name must be lower-case letters and _: " + ch);
            }
        }
        this.db = db;
        this.channels = List.copyOf(channels);
        this.callback = callback;
        this.thread = Thread.ofPlatform().daemon().name(name).start(this::run);
    }

    /** Whether notifications are arriving now. */
    public boolean listening() {
        return listening;
    }

    private void run() {
        long backoff = 250;
        while (!closed) {
            try (Connection c = db.getConnection()) {
                c.setAutoCommit(true);
                try (Statement s = c.createStatement()) {
                    for (String ch : channels) {
                        s.execute("LISTEN " + ch);
                    }
                }
                PGConnection pg = c.unwrap(PGConnection.class);
                listening = true;
                backoff = 250;
                callback.accept(null, null);
                while (!closed) {
                    PGNotification[] ns = pg.getNotifications(500);
                    if (ns != null) {
                        for (PGNotification n : ns) {
                            callback.accept(n.getName(), n.getParameter());
                        }
                    }
                }
            } catch (SQLException | RuntimeException e) {
                if (closed) {
                    return;
                }
                if (listening) {
                    LOG.log(Level.WARNING, "lost the LISTEN connection for " + channels + " (" + e.getMessage()
                            + "); polling until it is back");
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

    @Override
    public void close() {
        closed = true;
        thread.interrupt();
    }
}
