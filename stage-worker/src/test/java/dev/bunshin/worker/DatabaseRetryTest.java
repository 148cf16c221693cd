package dev.bunshin.worker;

import org.junit.jupiter.api.Test;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which SQL errors a worker waits out, and how (issue 10); the real outage is e2e's DatabaseOutageTest. */
class DatabaseRetryTest {

    @Test
    void theServerAwayOrALostRaceIsTransientABadStatementOrBadDataIsNot() {
        for (String state : new String[]{"08006", "08001", "57P01", "57P03", "55000", "53300", "40001", "40P01", null}) {
            assertTrue(DatabaseRetry.isTransient(new SQLException("x", state)), "SQLState " + state);
        }
        for (String state : new String[]{"22P02", "23505", "42P01", "42703"}) {
            assertFalse(DatabaseRetry.isTransient(new SQLException("x", state)), "SQLState " + state);
        }
    }

    @Test
    void workIsRunAgainUntilItSucceedsAndTheOutageIsVisibleMeanwhile() throws Exception {
        DatabaseRetry retry = new DatabaseRetry("w0", () -> true);
        List<String> seen = new ArrayList<>();
        String result = retry.untilDone("test", () -> {
            seen.add(retry.outage());
            if (seen.size() < 4) throw new SQLException("Connection refused", "08001");
            return "stored";
        });
        assertEquals("stored", result);
        assertNull(seen.getFirst());
        assertTrue(seen.get(1).contains("Connection refused"), seen.get(1));
        assertNull(retry.outage(), "over once the work succeeded");
    }

    @Test
    void aStatementThatCannotSucceedIsThrownAtOnce() {
        DatabaseRetry retry = new DatabaseRetry("w0", () -> true);
        SQLException bad = new SQLException("duplicate key", "23505");
        int[] runs = {0};
        assertSame(bad, assertThrows(SQLException.class, () -> retry.untilDone("test", () -> {
            runs[0]++;
            throw bad;
        })));
        assertEquals(1, runs[0]);
    }

    @Test
    void aWorkerThatClosesStopsWaiting() {
        DatabaseRetry retry = new DatabaseRetry("w0", () -> false);
        assertThrows(InterruptedException.class, () -> retry.untilDone("test", () -> {
            throw new SQLException("terminating connection due to administrator command", "57P01");
        }));
    }

    @Test
    void theDriversAssertionOnAConnectionLostMidBatchIsWaitedOutAnyOtherAssertionIsNot() throws Exception {
        DatabaseRetry retry = new DatabaseRetry("w0", () -> true);
        int[] runs = {0};
        assertEquals("stored", retry.untilDone("test", () -> {
            if (runs[0]++ == 0) {
                AssertionError e = new AssertionError("pgStatement.getConnection().getAutoCommit() should not throw");
                e.setStackTrace(new StackTraceElement[]{new StackTraceElement("org.postgresql.jdbc.BatchResultHandler",
                        "isAutoCommit", "BatchResultHandler.java", 115)});
                throw e;
            }
            return "stored";
        }));
        AssertionError ours = new AssertionError("an invariant of ours");
        assertSame(ours, assertThrows(AssertionError.class, () -> retry.untilDone("test", () -> {
            throw ours;
        })));
    }
}
