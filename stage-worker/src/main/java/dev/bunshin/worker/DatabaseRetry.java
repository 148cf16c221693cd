package dev.bunshin.worker;

import dev.bunshin.db.SqlRetry;

import java.sql.SQLException;
import java.util.function.BooleanSupplier;
import java.util.logging.Logger;

/**
 * The worker's database calls through an outage (issue 10): a statement that failed because the server is gone,
 * restarting, refusing connections or out of resources — or because its transaction lost a race (serialization
 * failure, deadlock: {@link SqlRetry#RETRYABLE}) — is run again with backoff instead of stopping the worker.
 * The outage is logged once when it starts and once when it ends; meanwhile {@link #outage()} says why, and the
 * readiness check is DOWN. Errors that would be the same on every attempt (bad data, a bad statement: SQLState
 * classes 22, 23, 42) are thrown as they came.
 */
final class DatabaseRetry {

    private static final Logger LOG = Logger.getLogger(DatabaseRetry.class.getName());
    private static final long FIRST_BACKOFF_MILLIS = 20;
    private static final long MAX_BACKOFF_MILLIS = 2_000;

    /** Work on the database; it must leave nothing half done when it throws (roll back its transaction). */
    interface Work<T> {
        T run() throws SQLException;
    }

    private final String worker;
    private final BooleanSupplier running;
    /** When the current outage began (System.nanoTime), or 0 while the database answers. */
    private volatile long downSince;
    private volatile String lastError;

    /** @param running false once the worker closes: a retry in progress then gives up */
    DatabaseRetry(String worker, BooleanSupplier running) {
        this.worker = worker;
        this.running = running;
    }

    /**
     * Runs {@code work} until it succeeds, however long the database is away, or until the worker closes
     * ({@link InterruptedException}). Errors that are not transient are thrown at once.
     */
    <T> T untilDone(String what, Work<T> work) throws SQLException, InterruptedException {
        long backoff = FIRST_BACKOFF_MILLIS;
        while (true) {
            try {
                T result;
                try {
                    result = work.run();
                } catch (AssertionError e) {
                    throw brokenConnection(e);
                }
                succeeded();
                return result;
            } catch (SQLException e) {
                if (!isTransient(e)) throw e;
                if (SqlRetry.retryable(e)) {
                    LOG.fine("worker " + worker + ": " + what + " lost a race, retrying: " + e);
                } else {
                    failed(what, e);
                }
                if (!running.getAsBoolean()) {
                    throw new InterruptedException("worker " + worker + " closing during " + what);
                }
                Thread.sleep(backoff + (long) (Math.random() * backoff));
                backoff = Math.min(MAX_BACKOFF_MILLIS, backoff * 2);
            }
        }
    }

    /**
     * The PostgreSQL driver asserts that a broken connection still answers {@code getAutoCommit()} while it completes
     * a batch; with assertions enabled (tests) a connection lost mid-batch then surfaces as this AssertionError instead
     * of a BatchUpdateException. One from the driver is a lost connection (08006); any other is rethrown.
     */
    private static SQLException brokenConnection(AssertionError e) {
        StackTraceElement[] at = e.getStackTrace();
        if (at.length == 0 || !at[0].getClassName().startsWith("org.postgresql.")) throw e;
        return new SQLException("connection lost mid-statement (the driver's assertion: " + e.getMessage() + ")",
                "08006", e);
    }

    /** Records that the database answered (ends an outage, logging how long it lasted). */
    void succeeded() {
        long since = downSince;
        if (since != 0) {
            downSince = 0;
            LOG.warning("worker " + worker + ": database back after "
                    + String.format("%.1f", (System.nanoTime() - since) / 1e9) + " s");
        }
    }

    /** Records a transient failure: the first one of an outage is logged, the rest only counted. */
    void failed(String what, SQLException e) {
        lastError = what + ": " + e.getMessage();
        if (downSince == 0) {
            downSince = System.nanoTime();
            LOG.warning("worker " + worker + ": database unavailable (" + what + ": " + e
                    + "); retrying with backoff until it is back");
        }
    }

    /** Why the database is unavailable, or null while it answers. */
    String outage() {
        return downSince == 0 ? null : lastError;
    }

    /**
     * Whether running the same statements again may succeed: anything but a data exception (22), an integrity
     * violation (23) or a syntax or access error (42). Connection failures (08), the server shutting down or not
     * accepting connections yet (57P, 55000), resources (53), lost races (40) and errors from the connection pool
     * (no SQLState) all qualify.
     */
    static boolean isTransient(SQLException e) {
        String state = e.getSQLState();
        if (state == null || state.length() < 2) return true;
        String cls = state.substring(0, 2);
        return !cls.equals("22") && !cls.equals("23") && !cls.equals("42");
    }
}
