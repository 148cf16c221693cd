package dev.bunshin.submitter;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bunshin.engine.tokenizer.Tokenizer;
import dev.bunshin.submitter.model.ServedModels;
import io.quarkus.arc.Arc;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Logprobs in OpenAI's shapes (chat, completions, their streams, batch output lines), with the tail played in the
 * database ({@link TestDb#logprobs}: token i has logprob -(i+1)/4, its alternatives itself then 300, 301, …).
 */
@QuarkusTest
@WithTestResource(TestPostgres.class)
@WithTestResource(TestKafka.class)
class LogprobsApiTest {

    @TestHTTPResource("/")
    URI base;

    private static Tokenizer tokenizer() {
        return Arc.container().instance(ServedModels.class).get().resolve("stories260K", "model").tokenizer();
    }

    /** What an answer shows as a token's text: its piece as UTF-8. */
    private static String piece(int id) {
        return new String(tokenizer().tokenBytes(id), StandardCharsets.UTF_8);
    }

    private static void assertChatEntry(JsonNode e, int position, int k) {
        int id = 100 + position;
        assertEquals(piece(id), e.get("token").asText());
        assertEquals(-(position + 1) / 4.0, e.get("logprob").asDouble(), 1e-6);
        byte[] bytes = tokenizer().tokenBytes(id);
        assertEquals(bytes.length, e.get("bytes").size());
        for (int i = 0; i < bytes.length; i++) assertEquals(bytes[i] & 0xFF, e.get("bytes").get(i).asInt());
        JsonNode top = e.get("top_logprobs");
        assertEquals(k, top.size());
        for (int i = 0; i < k; i++) {
            assertEquals(piece(i == 0 ? id : 299 + i), top.get(i).get("token").asText());
            assertEquals(-(position + 1) / 4.0 - i, top.get(i).get("logprob").asDouble(), 1e-6);
            assertTrue(top.get(i).get("bytes").isArray());
        }
    }

    @Test
    void aChatAnswerCarriesEachTokensLogprobAndTopAlternativesHeldBackTextIncluded() throws Exception {
        // the middle token releases no text (held back: it could start a stop string): it still has its entry
        var tail = TestDb.playNext("chat", TestDb.maxJobId(), "stop", "Hi", "", "!");
        JsonNode body = OpenAiApiTest.JSON.readTree(given().contentType(ContentType.JSON)
                .body("{\"model\":\"stories260K\",\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}],"
                        + "\"logprobs\":true,\"top_logprobs\":2}")
                .post("/v1/chat/completions").then().statusCode(200).extract().asString());
        tail.get(10, TimeUnit.SECONDS);
        JsonNode lp = body.get("choices").get(0).get("logprobs");
        assertTrue(lp.get("refusal").isNull());
        assertEquals(3, lp.get("content").size());
        for (int p = 0; p < 3; p++) assertChatEntry(lp.get("content").get(p), p, 2);
        assertEquals("Hi!", body.get("choices").get(0).get("message").get("content").asText());
    }

    @Test
    void logprobsTrueWithoutTopLogprobsGivesNoAlternativesAndNotAskingGivesNull() throws Exception {
        var tail = TestDb.playNext("chat", TestDb.maxJobId(), "stop", "Hi");
        JsonNode body = OpenAiApiTest.JSON.readTree(given().contentType(ContentType.JSON)
                .body("{\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}],\"logprobs\":true}")
                .post("/v1/chat/completions").then().statusCode(200).extract().asString());
        long job = tail.get(10, TimeUnit.SECONDS);
        assertEquals("0", TestDb.query("SELECT logprobs::text FROM jobs WHERE id = ?", job));
        assertChatEntry(body.get("choices").get(0).get("logprobs").get("content").get(0), 0, 0);

        var plain = TestDb.playNext("chat", job, "stop", "Hi");
        given().contentType(ContentType.JSON)
                .body("{\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}],\"logprobs\":false}")
                .post("/v1/chat/completions").then().statusCode(200)
                .body("choices[0].logprobs", nullValue());
        long plainJob = plain.get(10, TimeUnit.SECONDS);
        assertEquals(null, TestDb.query("SELECT logprobs::text FROM jobs WHERE id = ?", plainJob));
    }

    @Test
    void aStreamedChatSendsEachChunksLogprobsAndHeldBackTokensRideWithTheNextText() throws Exception {
        var tail = TestDb.playNext("chat", TestDb.maxJobId(), "length", "One", "", " two");
        List<JsonNode> chunks = chunks(OpenAiApiTest.sse(base, "/v1/chat/completions",
                "{\"messages\":[{\"role\":\"user\",\"content\":\"Count\"}],\"stream\":true,\"max_tokens\":3,"
                        + "\"logprobs\":true,\"top_logprobs\":3}"));
        tail.get(10, TimeUnit.SECONDS);
        assertTrue(chunks.get(0).get("choices").get(0).get("logprobs").isNull()); // the role
        JsonNode one = chunks.get(1).get("choices").get(0);
        assertEquals("One", one.get("delta").get("content").asText());
        assertEquals(1, one.get("logprobs").get("content").size());
        assertChatEntry(one.get("logprobs").get("content").get(0), 0, 3);
        JsonNode two = chunks.get(2).get("choices").get(0);
        assertEquals(" two", two.get("delta").get("content").asText());
        assertEquals(2, two.get("logprobs").get("content").size());
        assertChatEntry(two.get("logprobs").get("content").get(0), 1, 3);
        assertChatEntry(two.get("logprobs").get("content").get(1), 2, 3);
        assertEquals("length", chunks.get(3).get("choices").get(0).get("finish_reason").asText());
        assertTrue(chunks.get(3).get("choices").get(0).get("logprobs").isNull());
    }

    @Test
    void aCompletionCarriesTokensTheirLogprobsTopMapsAndTextOffsets() throws Exception {
        var tail = TestDb.playNext("completion", TestDb.maxJobId(), "length", ", th", "", "ere was");
        JsonNode body = OpenAiApiTest.JSON.readTree(given().contentType(ContentType.JSON)
                .body("{\"prompt\":\"Once upon a time\",\"max_tokens\":3,\"logprobs\":3}")
                .post("/v1/completions").then().statusCode(200).extract().asString());
        tail.get(10, TimeUnit.SECONDS);
        JsonNode lp = body.get("choices").get(0).get("logprobs");
        assertEquals(List.of(piece(100), piece(101), piece(102)), texts(lp.get("tokens")));
        for (int p = 0; p < 3; p++) {
            assertEquals(-(p + 1) / 4.0, lp.get("token_logprobs").get(p).asDouble(), 1e-6);
            JsonNode top = lp.get("top_logprobs").get(p);
            assertEquals(3, top.size());
            assertEquals(-(p + 1) / 4.0, top.get(piece(100 + p)).asDouble(), 1e-6);
            assertEquals(-(p + 1) / 4.0 - 2, top.get(piece(301)).asDouble(), 1e-6);
        }
        // where each token's released text starts in the returned text (the held-back one: where the next starts)
        assertEquals("[0,4,4]", lp.get("text_offset").toString());
    }

    @Test
    void aStreamedCompletionSendsLogprobsPerChunkWithTextOffsetsIntoTheWholeText() throws Exception {
        var tail = TestDb.playNext("completion", TestDb.maxJobId(), "stop", "Lily", "", " smiled");
        List<JsonNode> chunks = chunks(OpenAiApiTest.sse(base, "/v1/completions",
                "{\"prompt\":\"Once\",\"stream\":true,\"logprobs\":1}"));
        tail.get(10, TimeUnit.SECONDS);
        JsonNode first = chunks.get(0).get("choices").get(0).get("logprobs");
        assertEquals(List.of(piece(100)), texts(first.get("tokens")));
        assertEquals("[0]", first.get("text_offset").toString());
        assertEquals(1, first.get("top_logprobs").get(0).size());
        JsonNode second = chunks.get(1).get("choices").get(0).get("logprobs");
        assertEquals(List.of(piece(101), piece(102)), texts(second.get("tokens")));
        assertEquals("[4,4]", second.get("text_offset").toString());
        assertEquals(-0.75, second.get("token_logprobs").get(1).asDouble(), 1e-6);
    }

    @Test
    void aBatchLineThatAskedForLogprobsHasThemInItsOutputBody() throws Exception {
        String file = String.join("\n",
                "{\"custom_id\":\"c\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"messages\":"
                        + "[{\"role\":\"user\",\"content\":\"Hi\"}],\"max_tokens\":4,\"logprobs\":true,\"top_logprobs\":2}}",
                "{\"custom_id\":\"p\",\"method\":\"POST\",\"url\":\"/v1/completions\",\"body\":{\"prompt\":\"Once\","
                        + "\"max_tokens\":4,\"logprobs\":2}}",
                "{\"custom_id\":\"n\",\"method\":\"POST\",\"url\":\"/v1/completions\",\"body\":{\"prompt\":\"Once\"}}",
                "{\"custom_id\":\"x\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"messages\":"
                        + "[{\"role\":\"user\",\"content\":\"Hi\"}],\"top_logprobs\":2}}",
                "");
        String id = given().contentType("application/jsonl").body(file.getBytes(StandardCharsets.UTF_8))
                .post("/v1/batches").then().statusCode(202).body("counts.accepted", equalTo(3))
                .extract().jsonPath().getString("id");
        List<JsonNode> errors = BatchApiTest.lines(given().get("/v1/batches/" + id + "/errors").asString());
        assertEquals("body.top_logprobs", errors.getFirst().get("error").get("param").asText());
        List<Long> jobs = BatchApiTest.jobIds(id);
        for (long j : jobs) {
            TestDb.start(j);
            String k = TestDb.query("SELECT logprobs::text FROM jobs WHERE id = ?", j);
            for (int p = 0; p < 2; p++) {
                if (k == null) TestDb.token(j, p, 100 + p, "ab".substring(p, p + 1));
                else TestDb.token(j, p, 100 + p, "ab".substring(p, p + 1), Integer.parseInt(k));
            }
            TestDb.finish(j, "length");
        }
        List<JsonNode> out = BatchApiTest.lines(given().get("/v1/batches/" + id + "/output").then().statusCode(200)
                .extract().asString());
        JsonNode chat = out.get(0).get("response").get("body").get("choices").get(0).get("logprobs");
        assertEquals(2, chat.get("content").size());
        assertChatEntry(chat.get("content").get(1), 1, 2);
        JsonNode completion = out.get(1).get("response").get("body").get("choices").get(0).get("logprobs");
        assertEquals(List.of(piece(100), piece(101)), texts(completion.get("tokens")));
        assertEquals("[0,1]", completion.get("text_offset").toString());
        assertTrue(out.get(2).get("response").get("body").get("choices").get(0).get("logprobs").isNull());
    }

    @Test
    void badLogprobsFieldsAreRefusedNamingTheField() {
        String chat = "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],";
        refused("/v1/chat/completions", chat + "\"top_logprobs\":2}", "top_logprobs", "needs 'logprobs': true");
        refused("/v1/chat/completions", chat + "\"logprobs\":false,\"top_logprobs\":1}", "top_logprobs", "needs");
        refused("/v1/chat/completions", chat + "\"logprobs\":true,\"top_logprobs\":21}", "top_logprobs", "got 21");
        refused("/v1/chat/completions", chat + "\"logprobs\":true,\"top_logprobs\":-1}", "top_logprobs", "got -1");
        refused("/v1/chat/completions", chat + "\"logprobs\":true,\"top_logprobs\":\"2\"}", "top_logprobs", "integer");
        refused("/v1/chat/completions", chat + "\"logprobs\":\"yes\"}", "logprobs", "true or false");
        refused("/v1/completions", "{\"prompt\":\"Once\",\"logprobs\":21}", "logprobs", "between 0 and 20, got 21");
        refused("/v1/completions", "{\"prompt\":\"Once\",\"logprobs\":true}", "logprobs", "integer");
    }

    private static void refused(String path, String body, String param, String message) {
        String m = given().contentType(ContentType.JSON).body(body).post(path).then().statusCode(400)
                .body("error.param", equalTo(param)).extract().jsonPath().getString("error.message");
        assertTrue(m.contains(message), m);
    }

    private static List<String> texts(JsonNode array) {
        List<String> out = new ArrayList<>();
        for (JsonNode n : array) out.add(n.asText());
        return out;
    }

    private static List<JsonNode> chunks(List<String> data) throws Exception {
        assertEquals("[DONE]", data.getLast());
        List<JsonNode> out = new ArrayList<>();
        for (String d : data.subList(0, data.size() - 1)) out.add(OpenAiApiTest.JSON.readTree(d));
        return out;
    }
}
