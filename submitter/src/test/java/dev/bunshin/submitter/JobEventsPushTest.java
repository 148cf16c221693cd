package dev.bunshin.submitter;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bunshin.db.JobsTable;
import dev.bunshin.protocol.events.EventPublisher;
import dev.bunshin.protocol.events.JobEvent;
import dev.bunshin.submitter.jobs.JobEvents;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Streams take their tokens from the events on Kafka (published as the tail publishes them, after its commit),
 * consumed through SmallRye Reactive Messaging, not from a poll: with the polls set to 10 s, every token, the end
 * of the job and a cancel made through the API (published by the submitter itself) reach the SSE client within a
 * fraction of that.
 */
@QuarkusTest
@TestProfile(JobEventsPushTest.SlowPolling.class)
@WithTestResource(TestPostgres.class)
@WithTestResource(TestKafka.class)
class JobEventsPushTest {

    public static class SlowPolling implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("bunshin.api.poll-ms", "10000", "bunshin.api.notified-poll-ms", "10000",
                    "bunshin.api.keepalive-ms", "60000");
        }
    }

    static final long POLL_MS = 10_000;

    @TestHTTPResource("/")
    URI base;

    @Inject
    JobEvents events;

    static EventPublisher tail;

    @BeforeAll
    static void publisher() {
        tail = new EventPublisher(TestKafka.broker().bootstrapServers());
    }

    @AfterAll
    static void closePublisher() {
        tail.close();
    }

    private void awaitListening() throws InterruptedException {
        for (int i = 0; i < 300 && !events.listening(); i++) {
            Thread.sleep(100);
        }
        assertTrue(events.listening(), "the submitter's consumer holds the partitions of " + EventPublisher.TOPIC);
    }

    @Test
    void tokensAndTheEndArriveWithTheirEventsNotOnAPoll() throws Exception {
        awaitListening();
        long id = JobApiTest.submit("{\"prompt\":\"Once upon a time\",\"max_tokens\":5}");
        TestDb.start(id);
        try (SseClient sse = SseClient.open(base.resolve("/v1/jobs/" + id + "/events"), null)) {
            assertEquals(200, sse.response.statusCode());
            Thread.sleep(300); // the stream has read the (empty) job and now waits
            for (int p = 0; p < 3; p++) {
                long t0 = System.nanoTime();
                TestDb.token(id, p, 20 + p, " t" + p);
                tail.publish(new JobEvent(id, "running", null, List.of(new JobEvent.Token(p, 20 + p, " t" + p))));
                SseClient.Event e = sse.next();
                long ms = (System.nanoTime() - t0) / 1_000_000;
                assertEquals(String.valueOf(p), e.id());
                assertTrue(e.data().contains(" t" + p), e.data());
                assertTrue(ms < POLL_MS / 5, "token " + p + " took " + ms + " ms: woken by a poll, not by its event");
            }
            long t0 = System.nanoTime();
            TestDb.finish(id, "stop");
            tail.publish(JobEvent.status(id, "completed"));
            SseClient.Event done = sse.next();
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertEquals("done", done.event());
            assertTrue(done.data().contains("\"completed\""), done.data());
            assertTrue(ms < POLL_MS / 5, "the end took " + ms + " ms");
        }
    }

    @Test
    void aChatStreamsLogprobsComeWithTheTailsEvents() throws Exception {
        awaitListening();
        long before = TestDb.maxJobId();
        try (SseClient sse = SseClient.post(base.resolve("/v1/chat/completions"), "{\"messages\":[{\"role\":\"user\","
                + "\"content\":\"Hi\"}],\"stream\":true,\"max_tokens\":5,\"logprobs\":true,\"top_logprobs\":2}")) {
            assertEquals(200, sse.response.statusCode());
            assertTrue(sse.next().data().contains("\"role\":\"assistant\""));
            long id = Long.parseLong(TestDb.query("SELECT min(id)::text FROM jobs WHERE kind = 'chat' AND id > ?", before));
            TestDb.start(id);
            Thread.sleep(300); // the stream has read the (empty) job and now waits
            for (int p = 0; p < 2; p++) {
                long t0 = System.nanoTime();
                JobsTable.Logprobs lp = TestDb.logprobs(p, 20 + p, 2);
                TestDb.token(id, p, 20 + p, " t" + p, 2);
                tail.publish(new JobEvent(id, "running", null, List.of(new JobEvent.Token(p, 20 + p, " t" + p,
                        new JobEvent.Logprobs(lp.logprob(), lp.topIds(), lp.topLogprobs())))));
                JsonNode choice = OpenAiApiTest.JSON.readTree(sse.next().data()).get("choices").get(0);
                long ms = (System.nanoTime() - t0) / 1_000_000;
                assertTrue(ms < POLL_MS / 5, "token " + p + " took " + ms + " ms: woken by a poll, not by its event");
                assertEquals(" t" + p, choice.get("delta").get("content").asText());
                JsonNode entry = choice.get("logprobs").get("content").get(0);
                assertEquals(-(p + 1) / 4.0, entry.get("logprob").asDouble(), 1e-6);
                assertEquals(2, entry.get("top_logprobs").size());
                assertEquals(-(p + 1) / 4.0 - 1, entry.get("top_logprobs").get(1).get("logprob").asDouble(), 1e-6);
            }
            TestDb.finish(id, "length");
            tail.publish(JobEvent.status(id, "completed"));
            assertEquals("length", OpenAiApiTest.JSON.readTree(sse.next().data()).get("choices").get(0)
                    .get("finish_reason").asText());
        }
    }

    @Test
    void aCancelThroughTheApiEndsTheStreamAtOnce() throws Exception {
        awaitListening();
        long id = JobApiTest.submit("{\"prompt\":\"Once upon a time\",\"max_tokens\":50}");
        TestDb.start(id);
        try (SseClient sse = SseClient.open(base.resolve("/v1/jobs/" + id + "/events"), null)) {
            Thread.sleep(300);
            long t0 = System.nanoTime();
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    base.resolve("/v1/jobs/" + id)).DELETE().build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
            SseClient.Event done = sse.next();
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertEquals("done", done.event());
            assertTrue(done.data().contains("\"cancelled\""), done.data());
            assertTrue(ms < POLL_MS / 5, "the cancel reached the stream after " + ms + " ms: by a poll, not its event");
        }
    }
}
