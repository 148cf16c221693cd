package dev.bunshin.submitter;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bunshin.db.JobsTable;
import dev.bunshin.db.SqlRetry;
import io.agroal.api.AgroalDataSource;
import io.quarkus.arc.Arc;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A batch cancel racing the tail's batched token writes to the same jobs, as issue 10 saw it deadlock: the tail
 * writes one token to every job of the batch per transaction, in descending id order (as its records happen to
 * come), holding its row locks a moment before it commits, while {@code POST /v1/batches/{id}/cancel} cancels
 * them. Many rounds: no deadlock reaches either side, the cancel answers 200 and the batch ends cancelled.
 */
@QuarkusTest
@WithTestResource(TestPostgres.class)
@WithTestResource(TestKafka.class)
class BatchCancelRaceTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newHttpClient();
    static final int ROUNDS = 12;
    static final int JOBS = 40;

    @TestHTTPResource("/")
    URI base;

    @Test
    void aBatchCancelRacingTheTailNeverDeadlocks() throws Exception {
        StringBuilder file = new StringBuilder();
        for (int i = 0; i < JOBS; i++) {
            file.append("{\"custom_id\":\"r").append(i).append("\",\"url\":\"/v1/jobs\",\"body\":{\"prompt\":\"Once\",")
                    .append("\"max_tokens\":1000}}\n");
        }
        AgroalDataSource db = Arc.container().instance(AgroalDataSource.class).get();
        int tailCommits = 0;
        for (int round = 0; round < ROUNDS; round++) {
            HttpResponse<String> created = HTTP.send(HttpRequest.newBuilder(base.resolve("/v1/batches"))
                    .header("content-type", "application/jsonl").POST(HttpRequest.BodyPublishers.ofString(file.toString()))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(202, created.statusCode(), created.body());
            String batch = JSON.readTree(created.body()).get("id").asText();
            List<Long> jobs = BatchApiTest.jobIds(batch);
            try (Connection c = db.getConnection()) {
                JobsTable.start(c, jobs, 0);
            }

            AtomicBoolean stop = new AtomicBoolean();
            AtomicInteger deadlocks = new AtomicInteger();
            AtomicInteger commits = new AtomicInteger();
            CompletableFuture<Void> tail = CompletableFuture.runAsync(() -> {
                List<Long> descending = new ArrayList<>(jobs.reversed());
                for (int position = 0; !stop.get() && position < 500; position++) {
                    List<JobsTable.Token> tokens = new ArrayList<>();
                    for (long id : descending) {
                        tokens.add(new JobsTable.Token(id, position, 100 + position, "t", null, null));
                    }
                    try (Connection c = db.getConnection()) {
                        c.setAutoCommit(false);
                        try {
                            boolean[] stored = JobsTable.appendTokens(c, tokens);
                            Thread.sleep(2); // hold the row locks while the cancel comes in
                            c.commit();
                            commits.incrementAndGet();
                            if (!stored[0] && !stored[stored.length - 1]) {
                                return; // cancelled: nothing left running
                            }
                        } catch (SQLException e) {
                            c.rollback();
                            if (SqlRetry.retryable(e)) {
                                deadlocks.incrementAndGet();
                            } else {
                                throw e;
                            }
                        }
                    } catch (SQLException e) {
                        throw new IllegalStateException(e);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                }
            });
            Thread.sleep(5 + round % 4 * 3); // the tail is mid-transaction more often than not
            HttpResponse<String> cancel = HTTP.send(HttpRequest.newBuilder(base.resolve("/v1/batches/" + batch + "/cancel"))
                    .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            stop.set(true);
            tail.get(30, TimeUnit.SECONDS);
            assertEquals(200, cancel.statusCode(), "round " + round + ": " + cancel.body());
            JsonNode b = JSON.readTree(cancel.body());
            assertEquals("cancelled", b.get("status").asText(), "round " + round + ": " + cancel.body());
            assertEquals(JOBS, b.at("/counts/cancelled").asInt(), "round " + round + ": every job cancelled");
            assertEquals(0, deadlocks.get(), "round " + round + ": the tail saw a deadlock or serialization failure");
            assertEquals("0", TestDb.query("SELECT count(*)::text FROM jobs WHERE batch_id = ? AND status <> 'cancelled'",
                    batch));
            // Every job kept the tokens committed before its cancel, and its text is them.
            assertEquals("0", TestDb.query("""
                    SELECT count(*)::text FROM jobs j WHERE batch_id = ? AND text IS DISTINCT FROM
                      (SELECT coalesce(string_agg(t.text, '' ORDER BY position), '') FROM job_tokens t WHERE t.job_id = j.id)""",
                    batch));
            tailCommits += commits.get();
        }
        assertTrue(tailCommits >= ROUNDS, "the tail wrote while the cancels ran: " + tailCommits + " commits");
    }
}
