package dev.bunshin.submitter;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bunshin.cli.BatchCommand;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** With {@code bunshin.api.key} set, API routes need {@code Authorization: Bearer <key>}; health checks do not. */
@QuarkusTest
@TestProfile(ApiKeysTest.WithKeys.class)
@WithTestResource(TestPostgres.class)
@WithTestResource(TestKafka.class)
class ApiKeysTest {

    public static class WithKeys implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("bunshin.api.key", "first-key, second-key");
        }
    }

    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newHttpClient();
    static final String JOB = "{\"prompt\":\"Once upon a time\",\"max_tokens\":4}";

    @TestHTTPResource("/")
    URI base;

    private HttpResponse<String> post(String path, String authorization) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(JOB));
        if (authorization != null) b.header("Authorization", authorization);
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(String path, String authorization) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).GET();
        if (authorization != null) b.header("Authorization", authorization);
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void refusesRequestsWithoutAValidKeyAndStoresNothing() throws Exception {
        long before = TestDb.maxJobId();
        Map<String, String> cases = new LinkedHashMap<>();
        cases.put("none", null);
        cases.put("wrong key", "Bearer first-kez");
        cases.put("not bearer", "Basic Zmlyc3Qta2V5");
        cases.put("prefix of a key", "Bearer first");
        for (var c : cases.entrySet()) {
            HttpResponse<String> r = post("/v1/jobs", c.getValue());
            assertEquals(401, r.statusCode(), c.getKey() + ": " + r.body());
            assertEquals("Bearer realm=\"bunshin\"", r.headers().firstValue("www-authenticate").orElse(null), c.getKey());
            JsonNode error = JSON.readTree(r.body()).get("error");
            assertEquals("authorization", error.get("param").asText(), c.getKey());
            assertEquals("invalid_api_key", error.get("code").asText(), c.getKey());
        }
        assertTrue(JSON.readTree(post("/v1/jobs", null).body()).get("error").get("message").asText()
                .contains("Authorization: Bearer"));
        assertEquals(before, TestDb.maxJobId(), "a refused request stored no job");

        // Ollama's routes answer in Ollama's error shape.
        HttpResponse<String> tags = get("/api/tags", null);
        assertEquals(401, tags.statusCode());
        assertTrue(JSON.readTree(tags.body()).get("error").asText().contains("(field authorization)"), tags.body());
    }

    @Test
    void theBatchCommandSendsItsKey(@TempDir Path dir) throws Exception {
        Path in = Files.writeString(dir.resolve("keyed.jsonl"),
                "{\"custom_id\":\"keyed-1\",\"method\":\"POST\",\"url\":\"/v1/jobs\",\"body\":{\"prompt\":\"Lily\",\"max_tokens\":1}}\n");
        String url = base.toString();
        assertEquals(3, BatchCommand.run(new String[]{in.toString(), "--url", url}), "no key: refused");
        assertEquals(3, BatchCommand.run(new String[]{in.toString(), "--url", url, "--api-key", "nope"}));
        var exit = CompletableFuture.supplyAsync(() -> BatchCommand.run(
                new String[]{in.toString(), "--url", url, "--api-key", "first-key", "--poll-ms", "50"}));
        String id = null;
        for (int i = 0; i < 600 && id == null; i++) {
            id = TestDb.query("SELECT id::text FROM jobs WHERE custom_id = 'keyed-1' AND status = 'queued'");
            if (id == null) Thread.sleep(20);
        }
        assertTrue(id != null, "the keyed batch was accepted");
        TestDb.start(Long.parseLong(id));
        TestDb.token(Long.parseLong(id), 0, 9, " upon");
        TestDb.finish(Long.parseLong(id), "length");
        assertEquals(0, exit.get(30, TimeUnit.SECONDS));
        assertTrue(Files.readString(dir.resolve("keyed.out.jsonl")).contains("keyed-1"));
    }

    @Test
    void acceptsEveryConfiguredKeyAndLeavesHealthOpen() throws Exception {
        HttpResponse<String> first = post("/v1/jobs", "Bearer first-key");
        assertEquals(202, first.statusCode(), first.body());
        HttpResponse<String> second = post("/v1/jobs", "bearer second-key");
        assertEquals(202, second.statusCode(), second.body());
        long id = JSON.readTree(second.body()).get("id").asLong();
        assertEquals(200, get("/v1/jobs/" + id, "Bearer second-key").statusCode());
        assertEquals(200, get("/api/tags", "Bearer first-key").statusCode());
        assertEquals(200, get("/q/health/live", null).statusCode());
    }
}
