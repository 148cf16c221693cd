package dev.bunshin.db;

import java.sql.SQLException;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Runs a transaction again when PostgreSQL aborted it for a serialization failure (SQLState 40001) or a deadlock
 * (40P01): both mean "this transaction lost a race, nothing is wrong with it", and the documented answer is to
 * retry it whole. Anything else, or the last attempt's failure, is thrown as it came.
 */
public final class SqlRetry {

    /** serialization_failure, deadlock_detected (PostgreSQL, Appendix A: Error Codes). */
    public static final Set<String> RETRYABLE = Set.of("40001", "40P01");

    /** A transaction to run; it must roll back on failure (so running it again starts clean). */
    public interface Work<T, E extends Exception> {
        T run() throws E;
    }

    private SqlRetry() {}

    /**
     * Runs {@code work} up to {@code attempts} times, sleeping 10 ms, 20 ms, 40 ms … (each with up to as much
     * again of random jitter, so two losers do not collide again in step) between attempts.
     */
    public static <T, E extends Exception> T run(int attempts, Work<T, E> work) throws E {
        if (attempts < 1) {
            throw new IllegalArgumentException("attempts must be >= 1, got " + attempts);
        }
        for (int attempt = 1; ; attempt++) {
            try {
                return work.run();
            } catch (Exception e) {
                if (attempt >= attempts || !retryable(e)) {
                    throw e;
                }
                long backoff = 10L << Math.min(attempt - 1, 6);
                try {
                    Thread.sleep(backoff + ThreadLocalRandom.current().nextLong(backoff + 1));
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    /** Whether {@code t}, or anything in its cause chain, is a serialization failure or a deadlock. */
    public static boolean retryable(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof SQLException s) {
                for (SQLException n = s; n != null; n = n.getNextException()) {
                    if (RETRYABLE.contains(n.getSQLState())) {
                        return true;
                    }
                }
            }
        }
        return false;
    }
}
