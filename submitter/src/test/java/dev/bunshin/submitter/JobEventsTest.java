package dev.bunshin.submitter;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The job's token stream over a real HTTP connection (java.net.http), with the tail played in the database. */
@QuarkusTest
@WithTestResource(TestPostgres.class)
@WithTestResource(TestKafka.class)
class JobEventsTest {

    static final ObjectMapper JSON = new ObjectMapper();

    @TestHTTPResource("/")
    URI base;

    @Test
    void streamsTokensLiveThenDoneAndResumesAfterLastEventId() throws Exception {
        long id = JobApiTest.submit("{\"prompt\":\"Once upon a time\",\"max_tokens\":5}");
        TestDb.start(id);
        try (SseClient sse = SseClient.open(base.resolve("/v1/jobs/" + id + "/events"), null)) {
            assertEquals(200, sse.response.statusCode());
            assertTrue(sse.response.headers().firstValue("content-type").orElse("").startsWith("text/event-stream"));

            // Tokens arrive while the job is still running: the stream is not buffered to the end.
            TestDb.token(id, 0, 11, ",");
            SseClient.Event e0 = sse.next();
            assertEquals("0", e0.id());
            JsonNode d0 = JSON.readTree(e0.data());
            assertEquals(0, d0.get("position").asInt());
            assertEquals(11, d0.get("token").asInt());
            assertEquals(",", d0.get("text").asText());

            TestDb.token(id, 1, 12, " there");
            TestDb.token(id, 2, 13, " was \"é\"\n");
            assertEquals("1", sse.next().id());
            SseClient.Event e2 = sse.next();
            assertEquals("2", e2.id());
            assertEquals(" was \"é\"\n", JSON.readTree(e2.data()).get("text").asText());

            TestDb.finish(id, "stop");
            SseClient.Event done = sse.next();
            assertEquals("done", done.event());
            JsonNode d = JSON.readTree(done.data());
            assertEquals("completed", d.get("status").asText());
            assertEquals("stop", d.get("finish_reason").asText());
            assertEquals(5, d.get("usage").get("prompt_tokens").asInt());
            assertEquals(3, d.get("usage").get("completion_tokens").asInt());
            assertEquals(8, d.get("usage").get("total_tokens").asInt());
            assertNull(sse.next(), "the stream ends after done");
        }

        // Reconnect as EventSource would after position 0: exactly the positions after it.
        try (SseClient sse = SseClient.open(base.resolve("/v1/jobs/" + id + "/events"), "0")) {
            assertEquals(List.of("1", "2", "done"), ids(sse));
        }
        try (SseClient sse = SseClient.open(base.resolve("/v1/jobs/" + id + "/events"), "2")) {
            assertEquals(List.of("done"), ids(sse));
        }
    }

    @Test
    void aClientConnectingAfterCompletionGetsTheWholeStream() throws Exception {
        long id = JobApiTest.submit("{\"prompt\":\"Once\"}");
        TestDb.start(id);
        for (int p = 0; p < 700; p++) { // more than one database page of tokens
            TestDb.token(id, p, 100 + p % 50, "t" + p + " ");
        }
        TestDb.finish(id, "length");
        try (SseClient sse = SseClient.open(base.resolve("/v1/jobs/" + id + "/events"), null)) {
            StringBuilder text = new StringBuilder();
            List<String> got = new ArrayList<>();
            SseClient.Event e;
            while ((e = sse.next()) != null) {
                got.add(e.event() == null ? e.id() : e.event());
                if (e.event() == null) {
                    text.append(JSON.readTree(e.data()).get("text").asText());
                }
            }
            assertEquals(701, got.size());
            for (int p = 0; p < 700; p++) {
                assertEquals(String.valueOf(p), got.get(p));
            }
            assertEquals("done", got.getLast());
            assertEquals(TestDb.query("SELECT text FROM jobs WHERE id = ?", id), text.toString());
        }
    }

    @Test
    void aResumedStreamWaitsForTheNextTokenAndACancelEndsIt() throws Exception {
        long id = JobApiTest.submit("{\"prompt\":\"Once\"}");
        TestDb.start(id);
        TestDb.token(id, 0, 1, "a");
        TestDb.token(id, 1, 2, "b");
        int[] comments = new int[1];
        CompletableFuture<List<String>> events = CompletableFuture.supplyAsync(() -> {
            try (SseClient sse = SseClient.open(base.resolve("/v1/jobs/" + id + "/events"), "1")) {
                List<String> got = ids(sse);
                comments[0] = sse.comments;
                return got;
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        Thread.sleep(700);
        assertFalse(events.isDone(), "the stream stays open while the job runs");
        TestDb.token(id, 2, 3, "c");
        io.restassured.RestAssured.given().delete("/v1/jobs/" + id).then().statusCode(200);
        assertEquals(List.of("2", "done"), events.get(10, TimeUnit.SECONDS));
        // The opening comment, then keep-alives while nothing happened (bunshin.api.keepalive-ms is 200 in tests).
        assertTrue(comments[0] >= 2, "keep-alive comments: " + comments[0]);
    }

    @Test
    void unknownJobAndBadLastEventIdAreJsonErrors() throws Exception {
        try (SseClient sse = SseClient.open(base.resolve("/v1/jobs/987654321/events"), null)) {
            assertEquals(404, sse.response.statusCode());
            assertTrue(new String(sse.response.body().readAllBytes()).contains("job_not_found"));
        }
        long id = JobApiTest.submit("{\"prompt\":\"Once\"}");
        try (SseClient sse = SseClient.open(base.resolve("/v1/jobs/" + id + "/events"), "x")) {
            assertEquals(400, sse.response.statusCode());
            assertTrue(new String(sse.response.body().readAllBytes()).contains("Last-Event-ID"));
        }
    }

    static List<String> ids(SseClient sse) throws java.io.IOException {
        List<String> out = new ArrayList<>();
        SseClient.Event e;
        while ((e = sse.next()) != null) {
            out.add(e.event() == null ? e.id() : e.event());
        }
        return out;
    }
}
