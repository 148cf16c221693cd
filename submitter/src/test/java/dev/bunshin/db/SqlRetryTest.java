package dev.bunshin.db;

import org.junit.jupiter.api.Test;

import java.sql.SQLException;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which failures are run again, and how often. (Real deadlocks: BatchCancelRaceTest.) */
class SqlRetryTest {

    static final SQLException DEADLOCK = new SQLException("deadlock detected", "40P01");
    static final SQLException SERIALIZATION = new SQLException("could not serialize access", "40001");
    static final SQLException UNIQUE = new SQLException("duplicate key", "23505");

    @Test
    void deadlocksAndSerializationFailuresAnywhereInTheCauseChainAreRetryable() {
        assertTrue(SqlRetry.retryable(DEADLOCK));
        assertTrue(SqlRetry.retryable(SERIALIZATION));
        assertTrue(SqlRetry.retryable(new RuntimeException("wrapped by a framework", new IllegalStateException(DEADLOCK))));
        SQLException batch = new SQLException("batch entry 3 failed", "XX000");
        batch.setNextException(DEADLOCK);
        assertTrue(SqlRetry.retryable(batch), "a batch update's next exception counts");
        assertFalse(SqlRetry.retryable(UNIQUE));
        assertFalse(SqlRetry.retryable(new RuntimeException("no SQL here")));
    }

    @Test
    void runsAgainUntilItSucceedsOrTheAttemptsAreSpent() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        assertEquals("done", SqlRetry.run(5, () -> {
            if (calls.incrementAndGet() < 3) throw DEADLOCK;
            return "done";
        }));
        assertEquals(3, calls.get());

        calls.set(0);
        SQLException last = assertThrows(SQLException.class, () -> SqlRetry.run(4, () -> {
            calls.incrementAndGet();
            throw SERIALIZATION;
        }));
        assertSame(SERIALIZATION, last);
        assertEquals(4, calls.get());

        calls.set(0);
        assertThrows(SQLException.class, () -> SqlRetry.run(4, () -> {
            calls.incrementAndGet();
            throw UNIQUE;
        }));
        assertEquals(1, calls.get(), "anything else is not run again");
    }
}
