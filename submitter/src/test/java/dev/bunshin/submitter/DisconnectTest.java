package dev.bunshin.submitter;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import dev.bunshin.submitter.jobs.Completions;
import dev.bunshin.submitter.jobs.Job;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.io.IOException;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * No work for clients that left (issue 12): an OpenAI or Ollama request's job — streamed or not — is cancelled
 * within about a second of its client closing the connection, while the job is still queued and nothing is being
 * written to it (keep-alives are a minute apart here, so only the check on the connection can notice). A job made
 * with POST /v1/jobs is the client's to keep: closing a stream that follows it changes nothing.
 */
@QuarkusTest
@TestProfile(DisconnectTest.QuietStreams.class)
@WithTestResource(TestPostgres.class)
@WithTestResource(TestKafka.class)
class DisconnectTest {

    public static class QuietStreams implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("bunshin.api.keepalive-ms", "60000", "bunshin.api.poll-ms", "60000",
                    "bunshin.api.notified-poll-ms", "60000");
        }
    }

    @Inject
    Completions completions;

    @TestHTTPResource("/")
    URI base;

    @Test
    void aStreamedChatWhoseClientLeavesIsCancelled() throws Exception {
        assertCancelledAfterLeaving("/v1/chat/completions",
                "{\"model\":\"stories260K\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}", true);
    }

    @Test
    void aBlockingCompletionWhoseClientLeavesIsCancelled() throws Exception {
        assertCancelledAfterLeaving("/v1/completions", "{\"model\":\"stories260K\",\"prompt\":\"Once upon a time\"}", false);
    }

    @Test
    void anOllamaGenerateWhoseClientLeavesIsCancelled() throws Exception {
        // (Ollama's NDJSON stream sends its headers with its first line: a token or a keep-alive, a minute away here.)
        assertCancelledAfterLeaving("/api/generate", "{\"model\":\"stories260K\",\"prompt\":\"Once upon a time\"}", false);
    }

    @Test
    void aJobMadeWithTheJobsApiOutlivesItsStream() throws Exception {
        long id = JobApiTest.submit("{\"prompt\":\"Once upon a time\",\"max_tokens\":5}");
        try (Socket s = new Socket(base.getHost(), base.getPort())) {
            send(s, "GET /v1/jobs/" + id + "/events HTTP/1.1\r\nHost: x\r\n\r\n");
            readSome(s.getInputStream());
        }
        Thread.sleep(2_000);
        assertEquals("queued", TestDb.query("SELECT status FROM jobs WHERE id = ?", id));
    }

    @Test
    void aClientThatLeavesBeforeItsStreamIsWrittenCancelsItsJob() throws Exception {
        // The framework may never call a streamed body whose connection closed first: the guard alone must notice.
        long id = JobApiTest.submit("{\"prompt\":\"Once upon a time\",\"max_tokens\":5}");
        Job job = Job.findById(id);
        completions.answer(job, () -> {
            throw new IOException("the client went away");
        }, out -> fail("the body is never written here"));
        assertEquals("cancelled", awaitCancelled(id, 5_000), "job " + id + " whose stream was never written");
    }

    private static String awaitCancelled(long id, long millis) throws InterruptedException {
        long t0 = System.nanoTime();
        String status = TestDb.query("SELECT status FROM jobs WHERE id = ?", id);
        while (!status.equals("cancelled") && System.nanoTime() - t0 < millis * 1_000_000L) {
            Thread.sleep(50);
            status = TestDb.query("SELECT status FROM jobs WHERE id = ?", id);
        }
        return status;
    }

    private void assertCancelledAfterLeaving(String path, String json, boolean waitForBytes) throws Exception {
        long before = TestDb.maxJobId();
        long id;
        try (Socket s = new Socket(base.getHost(), base.getPort())) {
            byte[] body = json.getBytes(StandardCharsets.UTF_8);
            send(s, "POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
                    + body.length + "\r\n\r\n" + json);
            id = awaitJobAfter(before);
            if (waitForBytes) readSome(s.getInputStream()); // the stream has opened (headers, a first chunk)
            assertEquals("queued", TestDb.query("SELECT status FROM jobs WHERE id = ?", id));
        } // the client leaves
        long t0 = System.nanoTime();
        String status = awaitCancelled(id, 5_000);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertEquals("cancelled", status, path + ": job " + id + " after its client left");
        assertTrue(ms < 2_000, path + ": cancelled " + ms + " ms after the client left");
    }

    private static long awaitJobAfter(long before) throws InterruptedException {
        for (int i = 0; i < 200; i++) {
            long id = TestDb.maxJobId();
            if (id > before) return id;
            Thread.sleep(25);
        }
        throw new AssertionError("no job was created");
    }

    private static void send(Socket s, String request) throws Exception {
        OutputStream out = s.getOutputStream();
        out.write(request.getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static void readSome(InputStream in) throws Exception {
        byte[] buf = new byte[4096];
        int n = in.read(buf);
        assertTrue(n > 0, "the server answered");
    }
}
