package dev.bunshin.submitter;

import dev.bunshin.submitter.jobs.JobEvents;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Streams wake on the tail's commit (NOTIFY from the V11 triggers), not on a poll: with the polls set to 10 s,
 * every token and the end of the job still reach the SSE client within a fraction of that.
 */
@QuarkusTest
@TestProfile(JobEventsPushTest.SlowPolling.class)
@WithTestResource(TestPostgres.class)
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

    @Test
    void tokensAndTheEndArriveOnCommitNotOnAPoll() throws Exception {
        for (int i = 0; i < 100 && !events.listening(); i++) {
            Thread.sleep(100);
        }
        assertTrue(events.listening(), "the submitter LISTENs on " + JobEvents.CHANNEL);

        long id = JobApiTest.submit("{\"prompt\":\"Once upon a time\",\"max_tokens\":5}");
        TestDb.start(id);
        try (SseClient sse = SseClient.open(base.resolve("/v1/jobs/" + id + "/events"), null)) {
            assertEquals(200, sse.response.statusCode());
            Thread.sleep(300); // the stream has read the (empty) job and now waits
            for (int p = 0; p < 3; p++) {
                long t0 = System.nanoTime();
                TestDb.token(id, p, 20 + p, " t" + p);
                SseClient.Event e = sse.next();
                long ms = (System.nanoTime() - t0) / 1_000_000;
                assertEquals(String.valueOf(p), e.id());
                assertTrue(ms < POLL_MS / 5, "token " + p + " took " + ms + " ms: woken by a poll, not by NOTIFY");
            }
            long t0 = System.nanoTime();
            TestDb.finish(id, "stop");
            SseClient.Event done = sse.next();
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertEquals("done", done.event());
            assertTrue(ms < POLL_MS / 5, "the end took " + ms + " ms");
        }
    }
}
