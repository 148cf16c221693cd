package dev.bunshin.e2e;

import dev.bunshin.db.JobsTable;
import dev.bunshin.db.SqlRetry;
import dev.bunshin.engine.TestModels;
import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.engine.tokenizer.Tokenizer;
import dev.bunshin.worker.StageWorker;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Batch cancels racing the real tail (issue 10): while one stage worker writes a token to every running job of a
 * batch per transaction, the batch is cancelled ({@link JobsTable#cancelBatch}, as the submitter runs it). The
 * tail's transaction locks its job rows in id order, as the cancel does, so PostgreSQL never has to break a
 * deadlock between them (its deadlock counter does not move), and the worker never stops.
 */
class TailCancelRaceTest {

    private static final int ROUNDS = 4;
    private static final int JOBS = 24;

    @Test
    void batchCancelsRacingTheTailNeverDeadlockOrStopTheWorker() throws Exception {
        Path model = TestModels.stories260K();
        Infra infra = Infra.get();
        Jobs jobs = new Jobs(infra.db);
        String modelId = "stories260K-cancelrace-" + System.nanoTime() % 100000;
        try (GgufFile file = GgufFile.open(model);
             Pipeline p = new Pipeline(infra, modelId, model, 1, 1 << 20, 0, 64, Duration.ofMillis(50))) {
            Tokenizer tokenizer = Tokenizer.fromGguf(file);
            p.awaitPlan(1, Duration.ofSeconds(60));
            int[] prompt = tokenizer.encode("Once upon a time", true, false);
            long deadlocksBefore = deadlocks(infra);
            AtomicInteger cancelRetries = new AtomicInteger();
            int cancelledWithTokens = 0;
            for (int round = 0; round < ROUNDS; round++) {
                String batch = "batch_race_" + round + "_" + System.nanoTime();
                List<Long> ids = new ArrayList<>();
                for (int i = 0; i < JOBS; i++) ids.add(jobs.insert(modelId, "Once upon a time", prompt, 400));
                setBatch(infra, ids, batch);
                // Cancel while the tail writes: after the first tokens of the batch, before its end.
                jobs.awaitTokens(ids.getLast(), 2 + round * 3, Duration.ofSeconds(60));
                int cancelled = SqlRetry.run(10, () -> {
                    try (Connection c = infra.db.getConnection()) {
                        c.setAutoCommit(false);
                        try {
                            int n = JobsTable.cancelBatch(c, batch);
                            c.commit();
                            return n;
                        } catch (SQLException e) {
                            c.rollback();
                            if (SqlRetry.retryable(e)) cancelRetries.incrementAndGet();
                            throw e;
                        }
                    }
                });
                for (Jobs.Row row : jobs.awaitDone(ids, Duration.ofSeconds(60))) {
                    assertTrue(row.status().equals("cancelled") || row.status().equals("completed"), row.toString());
                    if (row.status().equals("cancelled") && row.tokenCount() > 0) cancelledWithTokens++;
                }
                assertTrue(cancelled > 0, "round " + round + ": the cancel came while jobs ran");
            }
            assertTrue(cancelledWithTokens > 0, "jobs were cancelled mid-generation");
            assertEquals(0, cancelRetries.get(), "the cancel lost no race to a deadlock");
            Thread.sleep(1_000); // statistics reach pg_stat_database within a second
            assertEquals(deadlocksBefore, deadlocks(infra), "PostgreSQL broke no deadlock");
            for (StageWorker w : p.workers) assertNull(w.failure(), "worker " + w.id() + " stopped");
            // The worker is still serving: a job after the races completes.
            long after = jobs.insert(modelId, "Once upon a time", prompt, 8);
            assertEquals("completed", jobs.awaitDone(List.of(after), Duration.ofSeconds(60)).getFirst().status());
        }
    }

    private static void setBatch(Infra infra, List<Long> ids, String batch) throws SQLException {
        try (Connection c = infra.db.getConnection();
             PreparedStatement ps = c.prepareStatement("UPDATE jobs SET batch_id = ? WHERE id = ANY (?)")) {
            ps.setString(1, batch);
            ps.setArray(2, c.createArrayOf("bigint", ids.toArray()));
            ps.executeUpdate();
        }
    }

    private static long deadlocks(Infra infra) throws SQLException {
        try (Connection c = infra.db.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")) {
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }
}
