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

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A tail's store commits a token only while its job is still under the plan that sampled it: once the job was
 * re-prefilled under a newer plan (its {@code plan_epoch} moved on), a late store of the old plan leaves it as the
 * re-prefill read it.
 */
@QuarkusTest
@WithTestResource(TestPostgres.class)
@WithTestResource(TestKafka.class)
class TokenEpochTest {

    static final String MODEL = "token-epoch-test";

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
    void aStoreOfAnOlderPlanWritesNothing() throws Exception {
        try (Connection c = db.getConnection()) {
            long job;
            try (PreparedStatement ps = c.prepareStatement(
                    "INSERT INTO jobs (model, prompt, prompt_tokens, max_tokens) VALUES (?, 'p', '{1}', 64) RETURNING id")) {
                ps.setString(1, MODEL);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    job = rs.getLong(1);
                }
            }
            JobsTable.start(c, List.of(job), 3);
            assertArrayEquals(new boolean[]{false}, JobsTable.appendTokens(c, List.of(token(job, 0, 11)), 2),
                    "a store of plan 2 for a job under plan 3");
            assertArrayEquals(new boolean[]{true}, JobsTable.appendTokens(c, List.of(token(job, 0, 12)), 3));
            JobsTable.setPlanEpoch(c, List.of(job), 4); // re-prefilled under plan 4 with token 0
            assertArrayEquals(new boolean[]{false}, JobsTable.appendTokens(c, List.of(token(job, 1, 13)), 3),
                    "a late store of plan 3 after the re-prefill");
            assertArrayEquals(new boolean[]{true}, JobsTable.appendTokens(c, List.of(token(job, 1, 14)), 4));
            assertArrayEquals(new boolean[]{true}, JobsTable.appendTokens(c, List.of(token(job, 2, 15)), JobsTable.ANY_EPOCH));
            assertArrayEquals(new int[]{12, 14, 15}, JobsTable.generatedTokens(c, job));
            try (PreparedStatement ps = c.prepareStatement("SELECT token_count FROM jobs WHERE id = ?")) {
                ps.setLong(1, job);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    assertEquals(3, rs.getInt(1));
                }
            }
        }
    }

    private static JobsTable.Token token(long job, int position, int tokenId) {
        return new JobsTable.Token(job, position, tokenId, "t" + tokenId, null, null);
    }
}
