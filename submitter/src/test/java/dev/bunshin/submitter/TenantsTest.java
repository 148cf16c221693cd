package dev.bunshin.submitter;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each API key is a tenant: it sees and acts on only its own jobs, batches and files (another's id is a 404, lists
 * leave them out); an admin key sees everyone's. Rows record the SHA-256 of the key, never the key.
 */
@QuarkusTest
@TestProfile(TenantsTest.TwoTenantsAndAnAdmin.class)
@WithTestResource(TestPostgres.class)
@WithTestResource(TestKafka.class)
class TenantsTest {

    public static class TwoTenantsAndAnAdmin implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("bunshin.api.key", "key-a,key-b", "bunshin.api.admin-keys", "key-admin");
        }
    }

    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newHttpClient();
    static final String A = "key-a", B = "key-b", ADMIN = "key-admin";

    @TestHTTPResource("/")
    URI base;

    private HttpResponse<String> send(String key, String method, String path, String contentType, byte[] body)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).header("Authorization", "Bearer " + key)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        if (contentType != null) {
            b.header("content-type", contentType);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(String key, String path) throws Exception {
        return send(key, "GET", path, null, null);
    }

    private JsonNode ok(HttpResponse<String> r, int status) throws Exception {
        assertEquals(status, r.statusCode(), r.body());
        return JSON.readTree(r.body());
    }

    private void notFound(HttpResponse<String> r) throws Exception {
        assertEquals(404, r.statusCode(), r.body());
        assertTrue(JSON.readTree(r.body()).at("/error/code").asText().endsWith("_not_found"), r.body());
    }

    private static List<String> ids(JsonNode list) {
        List<String> out = new ArrayList<>();
        list.get("data").forEach(d -> out.add(d.get("id").asText()));
        return out;
    }

    static String sha256(String key) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void jobsAreSeenAndCancelledOnlyByTheirKeyAndTheAdmin() throws Exception {
        byte[] job = "{\"prompt\":\"Once upon a time\",\"max_tokens\":4}".getBytes(StandardCharsets.UTF_8);
        String a = ok(send(A, "POST", "/v1/jobs", "application/json", job), 202).get("id").asText();
        String b = ok(send(B, "POST", "/v1/jobs", "application/json", job), 202).get("id").asText();
        assertEquals(sha256(A), TestDb.query("SELECT owner FROM jobs WHERE id = ?", Long.parseLong(a)));
        assertEquals("0", TestDb.query("SELECT count(*)::text FROM jobs WHERE owner IN (?, ?, ?)", A, B, ADMIN),
                "no row holds a key");

        ok(get(A, "/v1/jobs/" + a), 200);
        notFound(get(B, "/v1/jobs/" + a));
        notFound(get(B, "/v1/jobs/" + a + "/events"));
        notFound(send(B, "DELETE", "/v1/jobs/" + a, null, null));
        assertEquals("queued", TestDb.query("SELECT status FROM jobs WHERE id = ?", Long.parseLong(a)), "B cancelled nothing");

        List<String> listedByB = ids(ok(get(B, "/v1/jobs?limit=200"), 200));
        assertTrue(listedByB.contains(b) && !listedByB.contains(a), listedByB.toString());
        List<String> listedByAdmin = ids(ok(get(ADMIN, "/v1/jobs?limit=200&after=" + (Long.parseLong(a) - 1)), 200));
        assertTrue(listedByAdmin.contains(a) && listedByAdmin.contains(b), listedByAdmin.toString());
        ok(get(ADMIN, "/v1/jobs/" + b), 200);
        assertEquals("cancelled", ok(send(ADMIN, "DELETE", "/v1/jobs/" + b, null, null), 200).get("status").asText());
        assertEquals("cancelled", ok(send(A, "DELETE", "/v1/jobs/" + a, null, null), 200).get("status").asText());
    }

    @Test
    void anOpenAiCompletionIsItsCallersJob() throws Exception {
        long before = TestDb.maxJobId();
        var tail = TestDb.playNext("completion", before, "stop", "Hi");
        ok(send(B, "POST", "/v1/completions", "application/json",
                "{\"prompt\":\"Once\",\"max_tokens\":2}".getBytes(StandardCharsets.UTF_8)), 200);
        long job = tail.get(10, TimeUnit.SECONDS);
        assertEquals(sha256(B), TestDb.query("SELECT owner FROM jobs WHERE id = ?", job));
        notFound(get(A, "/v1/jobs/" + job));
    }

    @Test
    void batchesAndFilesAreTheirCreatorsOnly() throws Exception {
        byte[] lines = ("{\"custom_id\":\"t1\",\"method\":\"POST\",\"url\":\"/v1/jobs\",\"body\":{\"prompt\":\"Once\",\"max_tokens\":2}}\n"
                + "{\"custom_id\":\"t2\",\"method\":\"POST\",\"url\":\"/v1/jobs\",\"body\":{\"prompt\":5}}\n")
                .getBytes(StandardCharsets.UTF_8);
        String batch = ok(send(A, "POST", "/v1/batches", "application/jsonl", lines), 202).get("id").asText();
        String input = ok(get(A, "/v1/batches/" + batch), 200).get("input_file_id").asText();
        assertEquals(sha256(A), TestDb.query("SELECT owner FROM batches WHERE id = ?", batch));
        assertEquals(sha256(A), TestDb.query("SELECT owner FROM files WHERE id = ?", input));
        assertEquals(sha256(A), TestDb.query("SELECT max(owner) FROM jobs WHERE batch_id = ?", batch));

        for (String path : List.of("/v1/batches/" + batch, "/v1/batches/" + batch + "/output",
                "/v1/batches/" + batch + "/errors", "/v1/files/" + input, "/v1/files/" + input + "/content")) {
            notFound(get(B, path));
            assertEquals(200, get(A, path).statusCode(), path);
            assertEquals(200, get(ADMIN, path).statusCode(), path);
        }
        notFound(send(B, "POST", "/v1/batches/" + batch + "/cancel", null, null));
        notFound(send(B, "DELETE", "/v1/files/" + input, null, null));
        // B cannot run A's uploaded file as its own batch.
        HttpResponse<String> steal = send(B, "POST", "/v1/batches", "application/json", ("{\"input_file_id\":\"" + input
                + "\",\"endpoint\":\"/v1/jobs\",\"completion_window\":\"24h\"}").getBytes(StandardCharsets.UTF_8));
        notFound(steal);
        assertEquals("input_file_id", JSON.readTree(steal.body()).at("/error/param").asText());

        assertFalse(ids(ok(get(B, "/v1/batches?limit=100"), 200)).contains(batch));
        assertFalse(ids(ok(get(B, "/v1/files"), 200)).contains(input));
        assertTrue(ids(ok(get(A, "/v1/batches?limit=100"), 200)).contains(batch));
        assertTrue(ids(ok(get(ADMIN, "/v1/files"), 200)).contains(input));
        ok(get(B, "/v1/batches?limit=100"), 200);
        assertEquals(400, get(B, "/v1/batches?after=" + batch).statusCode(), "A's batch is no cursor for B");

        // A's cancel works, and the output file the batch writes is A's too.
        JsonNode cancelled = ok(send(A, "POST", "/v1/batches/" + batch + "/cancel", null, null), 200);
        assertEquals("cancelled", cancelled.get("status").asText());
        String output = cancelled.get("output_file_id").asText();
        notFound(get(B, "/v1/files/" + output + "/content"));
        assertEquals(200, get(A, "/v1/files/" + output + "/content").statusCode());
    }
}
