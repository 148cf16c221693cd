package dev.bunshin.submitter.cluster;

import dev.bunshin.db.JobsTable;
import dev.bunshin.submitter.TestKafka;
import dev.bunshin.submitter.TestPostgres;
import io.agroal.api.AgroalDataSource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The token counter equals sum(token_count) of its model's jobs while summing only the jobs that may change. */
@QuarkusTest
@WithTestResource(TestPostgres.class)
@WithTestResource(TestKafka.class)
class TokenCounterTest {

    static final String MODEL = "token-counter-test";

    @Inject
    AgroalDataSource db;

    @AfterEach
    void removeJobs() throws SQLException {
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement("DELETE FROM jobs WHERE model = ?")) {
            ps.setString(1, MODEL);
            ps.executeUpdate();
        }
    }

    @Test
    void countsEveryTokenAndMovesItsWatermarkPastEndedJobsOnly() throws Exception {
        try (Connection c = db.getConnection()) {
            TokenCounter counter = new TokenCounter(MODEL);
            long start = counter.read(c);
            assertEquals(0, start);
            long a = insert(c), b = insert(c);
            tokens(c, a, 0, 5);
            JobsTable.complete(c, a, "length");
            tokens(c, b, 0, 3);
            assertEquals(8, counter.read(c));
            // Ten more reads: job a (ended) settles below the watermark; b is running, so the watermark stops at b.
            for (int i = 0; i < TokenCounter.SETTLE_READS; i++) assertEquals(8, counter.read(c));
            assertEquals(b, counter.watermark());
            tokens(c, b, 3, 4);
            assertEquals(12, counter.read(c));
            JobsTable.complete(c, b, "stop");
            long d = insert(c);
            tokens(c, d, 0, 2);
            for (int i = 0; i < TokenCounter.SETTLE_READS + 1; i++) assertEquals(14, counter.read(c));
            assertEquals(d, counter.watermark(), "ended b settled; running d holds the watermark");
            assertEquals(14, sumOfTokenCounts(c));
        }
    }

    /** Prints what a read costs once the jobs table holds many ended jobs (docs/api.md quotes it). */
    @Test
    void aReadStaysCheapOverManyEndedJobs() throws Exception {
        int n = 20_000;
        try (Connection c = db.getConnection()) {
            try (PreparedStatement ps = c.prepareStatement("""
                    INSERT INTO jobs (model, prompt, prompt_tokens, max_tokens, status, finish_reason, token_count,
                                      finished_at)
                    SELECT ?, 'p', '{1}', 64, 'completed', 'length', 64, now() FROM generate_series(1, ?)""")) {
                ps.setString(1, MODEL);
                ps.setInt(2, n);
                ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement("ANALYZE jobs")) {
                ps.execute(); // as autovacuum would after a bulk insert: the planner knows the id range
            }
            TokenCounter counter = new TokenCounter(MODEL);
            long t0 = System.nanoTime();
            assertEquals(64L * n, counter.read(c));
            long first = System.nanoTime() - t0;
            for (int i = 0; i < TokenCounter.SETTLE_READS; i++) counter.read(c);
            long t1 = System.nanoTime();
            int reads = 20;
            for (int i = 0; i < reads; i++) assertEquals(64L * n, counter.read(c));
            double steady = (System.nanoTime() - t1) / 1e6 / reads;
            System.out.printf("token counter over %d ended jobs: first read %.1f ms, then %.2f ms a read%n",
                    n, first / 1e6, steady);
            assertTrue(counter.watermark() > 1, "the ended jobs were summed into the base");
        }
    }

    private static long insert(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO jobs (model, prompt, prompt_tokens, max_tokens) VALUES (?, 'p', '{1}', 64) RETURNING id")) {
            ps.setString(1, MODEL);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                long id = rs.getLong(1);
                JobsTable.start(c, List.of(id), 0);
                return id;
            }
        }
    }

    private static void tokens(Connection c, long job, int from, int n) throws SQLException {
        for (int p = from; p < from + n; p++) {
            JobsTable.appendTokens(c, List.of(new JobsTable.Token(job, p, 7, "x", null, null)));
        }
    }

    private static long sumOfTokenCounts(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT sum(token_count) FROM jobs WHERE model = ?")) {
            ps.setString(1, MODEL);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }
}
