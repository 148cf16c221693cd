package dev.bunshin.submitter;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Streams send something while their job is queued, so proxies and clients (Node's fetch, nginx) do not time them
 * out: OpenAI SSE an {@code : keep-alive} comment, Ollama NDJSON an empty progress object. The test profile sets
 * {@code bunshin.api.keepalive-ms=200}; the job stays queued for 1.5 s, then the played tail answers it.
 */
@QuarkusTest
@WithTestResource(TestPostgres.class)
@WithTestResource(TestKafka.class)
class KeepAliveTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newHttpClient();
    static final long QUEUED_MS = 1500;
    static final long INTERVAL_MS = 200;

    @TestHTTPResource("/")
    URI base;

    /** A line as the client read it, and when (ms after the request). */
    record Line(long atMs, String text) {}

    /** Sends the request, leaves the job queued QUEUED_MS, then plays it; returns every line of the stream. */
    private List<Line> streamWhileQueued(String path, String body, String kind) throws Exception {
        long before = TestDb.maxJobId();
        CompletableFuture<Long> tail = CompletableFuture.supplyAsync(() -> {
            sleep(QUEUED_MS);
            return null;
        }).thenCompose(x -> TestDb.playNext(kind, before, "stop", "Hi", " there"));
        long start = System.nanoTime();
        HttpResponse<InputStream> r = HTTP.send(HttpRequest.newBuilder(base.resolve(path))
                .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, r.statusCode());
        List<Line> lines = new ArrayList<>();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
            String l;
            while ((l = in.readLine()) != null) {
                lines.add(new Line((System.nanoTime() - start) / 1_000_000, l));
            }
        }
        tail.get(20, TimeUnit.SECONDS);
        return lines;
    }

    /** Asserts the lines before the job ran came at most ~INTERVAL_MS apart, and there were several. */
    private static void keptAlive(List<Line> quiet, String what) {
        assertTrue(quiet.size() >= 4, what + ": only " + quiet.size() + " keep-alives in " + QUEUED_MS + " ms: " + quiet);
        long previous = 0;
        for (Line l : quiet) {
            // Generous slack for a loaded 2-core machine; without keep-alives the gap is the whole queue time.
            assertTrue(l.atMs() - previous < INTERVAL_MS * 4, what + ": a gap of " + (l.atMs() - previous) + " ms: " + quiet);
            previous = l.atMs();
        }
    }

    @Test
    void anOpenAiStreamSendsKeepAliveCommentsWhileItsJobIsQueued() throws Exception {
        List<Line> lines = streamWhileQueued("/v1/chat/completions",
                "{\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}],\"stream\":true}", "chat");
        List<Line> keepAlives = lines.stream().filter(l -> l.text().equals(": keep-alive")).toList();
        keptAlive(keepAlives.stream().filter(l -> l.atMs() < QUEUED_MS).toList(), "chat SSE");
        StringBuilder content = new StringBuilder();
        for (Line l : lines) {
            if (l.text().startsWith("data: {")) {
                content.append(JSON.readTree(l.text().substring(6)).at("/choices/0/delta/content").asText(""));
            }
        }
        assertEquals("Hi there", content.toString());
        assertEquals("data: [DONE]", lines.stream().filter(l -> !l.text().isEmpty()).toList().getLast().text());

        lines = streamWhileQueued("/v1/completions", "{\"prompt\":\"Once\",\"stream\":true}", "completion");
        keptAlive(lines.stream().filter(l -> l.text().equals(": keep-alive") && l.atMs() < QUEUED_MS).toList(),
                "completion SSE");
    }

    @Test
    void anOllamaStreamSendsEmptyProgressObjectsWhileItsJobIsQueued() throws Exception {
        List<Line> lines = streamWhileQueued("/api/generate", "{\"model\":\"stories260K\",\"prompt\":\"Once\"}",
                "ollama-generate");
        StringBuilder response = new StringBuilder();
        List<Line> empty = new ArrayList<>();
        for (Line l : lines) {
            JsonNode o = JSON.readTree(l.text()); // every line is a JSON object: no blank keep-alive lines
            assertEquals("stories260K", o.get("model").asText(), l.text());
            response.append(o.get("response").asText());
            if (!o.get("done").asBoolean() && o.get("response").asText().isEmpty() && l.atMs() < QUEUED_MS) {
                empty.add(l);
            }
        }
        keptAlive(empty, "ollama generate NDJSON");
        assertEquals("Hi there", response.toString());
        assertTrue(JSON.readTree(lines.getLast().text()).get("done").asBoolean());

        lines = streamWhileQueued("/api/chat", "{\"model\":\"stories260K\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}",
                "ollama-chat");
        List<Line> chatEmpty = new ArrayList<>();
        for (Line l : lines) {
            JsonNode o = JSON.readTree(l.text());
            if (!o.get("done").asBoolean() && o.at("/message/content").asText().isEmpty() && l.atMs() < QUEUED_MS) {
                assertEquals("assistant", o.at("/message/role").asText());
                chatEmpty.add(l);
            }
        }
        keptAlive(chatEmpty, "ollama chat NDJSON");
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
