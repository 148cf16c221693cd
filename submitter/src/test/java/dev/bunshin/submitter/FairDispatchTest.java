package dev.bunshin.submitter;

import dev.bunshin.db.JobsTable;
import io.agroal.api.AgroalDataSource;
import io.quarkus.arc.Arc;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The order in which the scheduler takes queued jobs ({@link JobsTable#lockQueued}): interactive before batch,
 * round-robin across owners within each, fair across calls. Each test queues rows of a model of its own, so other
 * tests' jobs do not take part.
 */
@QuarkusTest
@WithTestResource(TestPostgres.class)
@WithTestResource(TestKafka.class)
class FairDispatchTest {

    @AfterEach
    void forgetTheRows() {
        TestDb.execute("DELETE FROM jobs WHERE kind = 'fair-test'");
    }

    private static Connection connection() throws SQLException {
        return Arc.container().instance(AgroalDataSource.class).get().getConnection();
    }

    /** Queues a job row of {@code model}; returns its id. */
    private static long queue(String model, String owner, String batch) throws SQLException {
        try (Connection c = connection(); PreparedStatement ps = c.prepareStatement("""
                INSERT INTO jobs (model, kind, prompt, prompt_tokens, max_tokens, owner, batch_id)
                VALUES (?, 'fair-test', 'x', '{1,2}', 4, ?, ?) RETURNING id""")) {
            ps.setString(1, model);
            ps.setString(2, owner);
            ps.setString(3, batch);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private static List<Long> queue(String model, String owner, String batch, int n) throws SQLException {
        List<Long> ids = new ArrayList<>();
        for (int i = 0; i < n; i++) ids.add(queue(model, owner, batch));
        return ids;
    }

    private static List<Long> ids(List<JobsTable.Prefill> jobs) {
        return jobs.stream().map(JobsTable.Prefill::id).toList();
    }

    @Test
    void interactiveJobsComeFirstThenEachOwnersBatchInTurn() throws Exception {
        String model = "fair-order";
        List<Long> aBatch = queue(model, "owner-a", "batch_a", 6);
        List<Long> bBatch = queue(model, "owner-b", "batch_b", 2);
        List<Long> aChat = queue(model, "owner-a", null, 2);
        long cChat = queue(model, "owner-c", null);
        long open = queue(model, null, null); // a job from open mode: an owner of its own

        List<Long> expected = List.of(
                aChat.get(0), cChat, open, aChat.get(1),           // interactive: turn 1 (oldest first), turn 2
                aBatch.get(0), bBatch.get(0), aBatch.get(1), bBatch.get(1), // batches: A and B alternate
                aBatch.get(2), aBatch.get(3), aBatch.get(4), aBatch.get(5));
        try (Connection c = connection()) {
            c.setAutoCommit(false);
            assertEquals(expected, ids(JobsTable.lockQueued(c, model, 100)));
            assertEquals(expected.subList(0, 5), ids(JobsTable.lockQueued(c, model, 5)), "a smaller limit: its prefix");
            c.rollback();
        }
    }

    @Test
    void batchJobsStopAtTheirLimitAndLeaveTheRestQueued() throws Exception {
        String model = "fair-reserve";
        List<Long> batch = queue(model, "owner-a", "batch_r", 5);
        List<Long> chat = queue(model, "owner-b", null, 2);
        try (Connection c = connection()) {
            c.setAutoCommit(false);
            assertEquals(List.of(chat.get(0), chat.get(1), batch.get(0), batch.get(1)),
                    ids(JobsTable.lockQueued(c, model, 10, 2)), "every interactive job, then 2 of the batch");
            c.rollback();
            assertEquals(chat, ids(JobsTable.lockQueued(c, model, 10, 0)), "no batch places: interactive only");
            c.rollback();
        }
        try (Connection c = connection()) { // what the first call left is still there for the next
            c.setAutoCommit(false);
            List<Long> first = ids(JobsTable.lockQueued(c, model, 10, 2));
            JobsTable.start(c, first, 0);
            c.commit();
            assertEquals(batch.subList(2, 5), ids(JobsTable.lockQueued(c, model, 10, 10)));
            c.rollback();
        }
    }

    @Test
    void takingOneJobAtATimeStillAlternatesOwners() throws Exception {
        String model = "fair-one-by-one";
        List<Long> a = queue(model, "owner-a", "batch_big", 8); // A's big batch, queued first
        List<Long> b = queue(model, "owner-b", "batch_small", 3);
        List<Long> taken = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            try (Connection c = connection()) {
                c.setAutoCommit(false);
                List<Long> one = ids(JobsTable.lockQueued(c, model, 1));
                assertEquals(1, one.size());
                JobsTable.start(c, one, 0); // running now: it counts in its owner's turn
                c.commit();
                taken.add(one.getFirst());
            }
        }
        assertEquals(List.of(a.get(0), b.get(0), a.get(1), b.get(1), a.get(2), b.get(2)), taken,
                "B's jobs are not stuck behind A's batch");
    }

    @Test
    void twoSchedulersNeverTakeTheSameJob() throws Exception {
        String model = "fair-skip-locked";
        List<Long> all = new ArrayList<>(queue(model, "owner-a", "batch_x", 4));
        all.addAll(queue(model, "owner-b", null, 2));
        try (Connection first = connection(); Connection second = connection()) {
            first.setAutoCommit(false);
            second.setAutoCommit(false);
            List<Long> one = ids(JobsTable.lockQueued(first, model, 3));
            List<Long> two = ids(JobsTable.lockQueued(second, model, 10));
            assertEquals(3, one.size());
            assertTrue(Collections.disjoint(one, two), one + " and " + two);
            List<Long> both = new ArrayList<>(one);
            both.addAll(two);
            both.sort(null);
            assertEquals(all, both, "together they took every queued job");
            first.rollback();
            second.rollback();
        }
    }

    @Test
    void theQueryStaysCheapWithManyQueuedJobs() throws Exception {
        String model = "fair-many";
        try (Connection c = connection(); PreparedStatement ps = c.prepareStatement("""
                INSERT INTO jobs (model, kind, prompt, prompt_tokens, max_tokens, owner, batch_id)
                SELECT ?, 'fair-test', 'x', '{1}', 4, 'owner-' || (g % 3), 'batch_' || (g % 3) FROM generate_series(1, 30000) g""")) {
            ps.setString(1, model);
            ps.executeUpdate();
        }
        long interactive = queue(model, "owner-z", null);
        TestDb.execute("ANALYZE jobs");
        long scansBefore = fairIndexScans();
        try (Connection c = connection()) {
            c.setAutoCommit(false);
            JobsTable.lockQueued(c, model, 16); // warm
            c.rollback();
            long start = System.nanoTime();
            List<Long> got = null;
            for (int i = 0; i < 10; i++) {
                got = ids(JobsTable.lockQueued(c, model, 16));
                c.rollback();
            }
            long perCallMs = (System.nanoTime() - start) / 10 / 1_000_000;
            assertEquals(interactive, got.getFirst(), "the one interactive job goes before 30,000 batch jobs");
            assertEquals(16, got.size());
            // A scan of every queued row takes far longer on this machine; the skip scan is a few index probes.
            assertTrue(perCallMs < 50, "lockQueued took " + perCallMs + " ms with 30,000 queued jobs");
        }
        // The planner walks index jobs_queued_fair (V16) rather than sorting every queued row. Statistics reach
        // pg_stat_user_indexes within a second or so of the transactions' ends.
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (fairIndexScans() <= scansBefore && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertTrue(fairIndexScans() > scansBefore, "jobs_queued_fair was never scanned");
    }

    private static long fairIndexScans() {
        TestDb.execute("SELECT pg_stat_clear_snapshot()");
        return Long.parseLong(TestDb.query(
                "SELECT coalesce(sum(idx_scan), 0)::text FROM pg_stat_user_indexes WHERE indexrelname = 'jobs_queued_fair'"));
    }
}
