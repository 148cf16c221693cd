package dev.bunshin.submitter;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The OpenAI-compatible routes, with the pipeline played in the database. */
@QuarkusTest
@WithTestResource(TestPostgres.class)
@WithTestResource(TestKafka.class)
class OpenAiApiTest {

    static final ObjectMapper JSON = new ObjectMapper();

    @TestHTTPResource("/")
    URI base;

    @Test
    void modelsListsTheServedModel() {
        given().get("/v1/models").then().statusCode(200)
                .body("object", equalTo("list"))
                .body("data[0].id", equalTo("stories260K"))
                .body("data[0].object", equalTo("model"));
        given().get("/v1/models/stories260K").then().statusCode(200).body("id", equalTo("stories260K"));
        given().get("/v1/models/gpt-4").then().statusCode(404).body("error.code", equalTo("model_not_found"));
    }

    @Test
    void aCompletionIsAJobAndAnswersWithTextAndUsage() throws Exception {
        var tail = TestDb.playNext("completion", TestDb.maxJobId(), "length", ", there", " was");
        given().contentType(ContentType.JSON)
                .body("{\"model\":\"stories260K\",\"prompt\":\"Once upon a time\",\"max_tokens\":2,\"temperature\":0}")
                .post("/v1/completions").then().statusCode(200)
                .body("object", equalTo("text_completion"))
                .body("model", equalTo("stories260K"))
                .body("choices[0].text", equalTo(", there was"))
                .body("choices[0].finish_reason", equalTo("length"))
                .body("usage.prompt_tokens", equalTo(5))
                .body("usage.completion_tokens", equalTo(2))
                .body("usage.total_tokens", equalTo(7));
        long job = tail.get(10, TimeUnit.SECONDS);
        given().get("/v1/jobs/" + job).then().body("kind", equalTo("completion")).body("max_tokens", equalTo(2));
    }

    @Test
    void aStreamedCompletionSendsChunksUsageAndDone() throws Exception {
        var tail = TestDb.playNext("completion", TestDb.maxJobId(), "stop", "Lily", "", " smiled");
        List<String> data = sse("/v1/completions",
                "{\"prompt\":\"Once\",\"stream\":true,\"stream_options\":{\"include_usage\":true}}");
        tail.get(10, TimeUnit.SECONDS);
        assertEquals("[DONE]", data.getLast());
        List<JsonNode> chunks = new ArrayList<>();
        for (String d : data.subList(0, data.size() - 1)) {
            chunks.add(JSON.readTree(d));
        }
        assertEquals("Lily", chunks.get(0).get("choices").get(0).get("text").asText());
        assertEquals(" smiled", chunks.get(1).get("choices").get(0).get("text").asText());
        assertEquals("stop", chunks.get(2).get("choices").get(0).get("finish_reason").asText());
        assertEquals(0, chunks.get(3).get("choices").size());
        assertEquals(3, chunks.get(3).get("usage").get("completion_tokens").asInt());
        assertEquals(4, chunks.size());
    }

    @Test
    void chatRendersTheTemplateAndAnswersAsTheAssistant() throws Exception {
        long before = TestDb.maxJobId();
        var tail = TestDb.playNext("chat", before, "stop", "Hi", "!");
        given().contentType(ContentType.JSON)
                .body("{\"messages\":[{\"role\":\"system\",\"content\":\"Be kind.\"},{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"Hello\"}]}],\"max_completion_tokens\":8,\"seed\":7}")
                .post("/v1/chat/completions").then().statusCode(200)
                .body("object", equalTo("chat.completion"))
                .body("choices[0].message.role", equalTo("assistant"))
                .body("choices[0].message.content", equalTo("Hi!"))
                .body("choices[0].finish_reason", equalTo("stop"))
                .body("usage.completion_tokens", equalTo(2));
        long job = tail.get(10, TimeUnit.SECONDS);
        // stories260K has no chat template: llama.cpp's fallback, ChatML.
        assertEquals("<|im_start|>system\nBe kind.<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n",
                TestDb.query("SELECT prompt FROM jobs WHERE id = ?", job));
        assertEquals("7 8", TestDb.query("SELECT seed || ' ' || max_tokens FROM jobs WHERE id = ?", job));
    }

    @Test
    void aStreamedChatStartsWithTheRoleAndEndsWithDone() throws Exception {
        var tail = TestDb.playNext("chat", TestDb.maxJobId(), "length", "One", " two");
        List<String> data = sse("/v1/chat/completions",
                "{\"messages\":[{\"role\":\"user\",\"content\":\"Count\"}],\"stream\":true,\"max_tokens\":2}");
        tail.get(10, TimeUnit.SECONDS);
        assertEquals(5, data.size(), data.toString());
        assertEquals("assistant", JSON.readTree(data.get(0)).at("/choices/0/delta/role").asText());
        assertEquals("chat.completion.chunk", JSON.readTree(data.get(0)).get("object").asText());
        assertEquals("One", JSON.readTree(data.get(1)).at("/choices/0/delta/content").asText());
        assertEquals(" two", JSON.readTree(data.get(2)).at("/choices/0/delta/content").asText());
        assertEquals("length", JSON.readTree(data.get(3)).at("/choices/0/finish_reason").asText());
        assertEquals("[DONE]", data.get(4));
    }

    @Test
    void aFailedJobIsA500InOpenAisShape() {
        var tail = TestDb.playNext("completion", TestDb.maxJobId(), "error", "x");
        given().contentType(ContentType.JSON).body("{\"prompt\":\"Once\"}").post("/v1/completions")
                .then().statusCode(500)
                .body("error.type", equalTo("server_error"))
                .body("error.code", equalTo("job_failed"));
        tail.join();
    }

    @Test
    void aStreamingClientThatLeavesCancelsItsJob() throws Exception {
        long before = TestDb.maxJobId();
        // The headers come before any token: a client sees its stream open while the job is still queued.
        HttpResponse<java.io.InputStream> r = SseClient.HTTP.sendAsync(HttpRequest.newBuilder(base.resolve("/v1/completions"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\":\"Once\",\"stream\":true,\"max_tokens\":200}")).build(),
                HttpResponse.BodyHandlers.ofInputStream()).get(10, TimeUnit.SECONDS);
        assertEquals(200, r.statusCode());
        long job = Long.parseLong(TestDb.query("SELECT min(id)::text FROM jobs WHERE id > ? AND kind = 'completion'", before));
        TestDb.start(job);
        TestDb.token(job, 0, 1, "a");
        BufferedReader reader = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8));
        String line;
        do {
            line = reader.readLine();
        } while (line != null && !line.startsWith("data: "));
        assertTrue(line != null && line.contains("\"text\":\"a\""), line);
        r.body().close();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        int p = 1;
        while (!"cancelled".equals(TestDb.query("SELECT status FROM jobs WHERE id = ?", job)) && System.nanoTime() < deadline) {
            TestDb.token(job, p++, 1, "b"); // writes to the gone client fail, and the job is cancelled
            Thread.sleep(50);
        }
        assertEquals("cancelled", TestDb.query("SELECT status FROM jobs WHERE id = ?", job));
    }

    @Test
    void badRequestsNameTheField() {
        Object[][] cases = {
                {"/v1/completions", "{\"prompt\":\"a\",\"n\":2}", 400, "n"},
                {"/v1/completions", "{\"prompt\":\"a\",\"echo\":true}", 400, "echo"},
                {"/v1/completions", "{\"prompt\":[\"a\",\"b\"]}", 400, "prompt"},
                {"/v1/completions", "{\"max_tokens\":3}", 400, "prompt"},
                {"/v1/completions", "{\"prompt\":\"a\",\"model\":\"llama-9000\"}", 404, "model"},
                {"/v1/completions", "{\"prompt\":\"a\",\"top_p\":7}", 400, "top_p"},
                {"/v1/completions", "{\"prompt\":", 400, null},
                {"/v1/chat/completions", "{}", 400, "messages"},
                {"/v1/chat/completions", "{\"messages\":[]}", 400, "messages"},
                {"/v1/chat/completions", "{\"messages\":[{\"role\":\"wizard\",\"content\":\"a\"}]}", 400, "messages[0].role"},
                {"/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\"}]}]}", 400, "messages[0].content[0]"},
                {"/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"a\"}],\"n\":3}", 400, "n"},
                {"/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"a\"}],\"max_completion_tokens\":0}", 400, "max_completion_tokens"},
                {"/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"a\"}],\"temperature\":-1}", 400, "temperature"},
        };
        for (Object[] c : cases) {
            given().contentType(ContentType.JSON).body((String) c[1]).post((String) c[0])
                    .then().log().ifValidationFails().statusCode((Integer) c[2])
                    .body("error.param", equalTo(c[3]))
                    .body("error.message", org.hamcrest.Matchers.notNullValue())
                    .body("error.type", equalTo("invalid_request_error"));
        }
    }

    /** POSTs and reads the SSE stream's data fields to its end. */
    List<String> sse(String path, String body) throws Exception {
        return sse(base, path, body);
    }

    static List<String> sse(URI base, String path, String body) throws Exception {
        HttpResponse<java.io.InputStream> r = SseClient.HTTP.send(HttpRequest.newBuilder(base.resolve(path))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("text/event-stream"));
        List<String> data = new ArrayList<>();
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                if (line.startsWith("data: ")) {
                    data.add(line.substring(6));
                }
            }
        }
        return data;
    }
}
