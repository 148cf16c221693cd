package dev.bunshin.submitter;

import dev.bunshin.submitter.ollama.OllamaResource;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Ollama-compatible routes, with the pipeline played in the database. */
@QuarkusTest
@WithTestResource(TestPostgres.class)
@WithTestResource(TestKafka.class)
class OllamaApiTest {

    static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void versionTagsAndShowDescribeTheModel() {
        given().get("/api/version").then().statusCode(200).body("version", equalTo(OllamaResource.VERSION));
        given().get("/api/tags").then().statusCode(200)
                .body("models[0].name", equalTo("stories260K:latest"))
                .body("models[0].details.format", equalTo("gguf"))
                .body("models[0].details.family", equalTo("llama"))
                .body("models[0].details.quantization_level", equalTo("F32"));
        given().contentType(ContentType.JSON).body("{\"model\":\"stories260K:latest\"}").post("/api/show")
                .then().statusCode(200)
                .body("model_info.'llama.context_length'", equalTo(2048))
                .body("model_info.'general.architecture'", equalTo("llama"))
                .body("details.family", equalTo("llama"));
        given().contentType(ContentType.JSON).body("{\"model\":\"nope\"}").post("/api/show")
                .then().statusCode(404).body("error", startsWith("model 'nope' does not exist"));
    }

    @Test
    void generateStreamsNdjsonByDefaultAndAnswersOnceWithStreamFalse() throws Exception {
        var tail = TestDb.playNext("ollama-generate", TestDb.maxJobId(), "length", " there", " was");
        String body = given().contentType(ContentType.JSON)
                .body("{\"model\":\"stories260K\",\"prompt\":\"Once upon a time\",\"options\":{\"num_predict\":2,\"temperature\":0}}")
                .post("/api/generate").then().statusCode(200).contentType(startsWith("application/x-ndjson"))
                .extract().asString();
        tail.get(10, TimeUnit.SECONDS);
        List<JsonNode> lines = lines(body);
        assertEquals(3, lines.size(), body);
        assertEquals(" there", lines.get(0).get("response").asText());
        assertFalse(lines.get(0).get("done").asBoolean());
        assertTrue(lines.get(2).get("done").asBoolean());
        assertEquals("length", lines.get(2).get("done_reason").asText());
        assertEquals(5, lines.get(2).get("prompt_eval_count").asInt());
        assertEquals(2, lines.get(2).get("eval_count").asInt());

        tail = TestDb.playNext("ollama-generate", TestDb.maxJobId(), "stop", "The", " end");
        given().contentType(ContentType.JSON).body("{\"model\":\"stories260K\",\"prompt\":\"Once\",\"stream\":false}")
                .post("/api/generate").then().statusCode(200)
                .body("response", equalTo("The end"))
                .body("done", equalTo(true))
                .body("done_reason", equalTo("stop"));
        long job = tail.get(10, TimeUnit.SECONDS);
        // Ollama's documented defaults.
        assertEquals("0.8 0.9 40 1.1", TestDb.query(
                "SELECT concat_ws(' ', temperature, top_p, top_k, repeat_penalty) FROM jobs WHERE id = ?", job));
    }

    @Test
    void chatAnswersWithAnAssistantMessage() throws Exception {
        var tail = TestDb.playNext("ollama-chat", TestDb.maxJobId(), "stop", "Hi", " there");
        given().contentType(ContentType.JSON)
                .body("{\"model\":\"stories260K\",\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}],\"stream\":false}")
                .post("/api/chat").then().statusCode(200)
                .body("message.role", equalTo("assistant"))
                .body("message.content", equalTo("Hi there"))
                .body("done", equalTo(true));
        tail.get(10, TimeUnit.SECONDS);

        tail = TestDb.playNext("ollama-chat", TestDb.maxJobId(), "stop", "A", "B");
        List<JsonNode> lines = lines(given().contentType(ContentType.JSON)
                .body("{\"model\":\"stories260K\",\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}]}")
                .post("/api/chat").then().statusCode(200).extract().asString());
        tail.get(10, TimeUnit.SECONDS);
        assertEquals(List.of("A", "B", ""), lines.stream().map(l -> l.at("/message/content").asText()).toList());
        assertTrue(lines.getLast().get("done").asBoolean());
    }

    @Test
    void anEmptyPromptLoadsAndErrorsAreOllamaShaped() {
        given().contentType(ContentType.JSON).body("{\"model\":\"stories260K\",\"stream\":false}").post("/api/generate")
                .then().statusCode(200).body("done", equalTo(true)).body("done_reason", equalTo("load"));
        given().contentType(ContentType.JSON).body("{\"model\":\"stories260K\",\"prompt\":\"a\",\"options\":{\"temperature\":5}}")
                .post("/api/generate").then().statusCode(400)
                .body("error", org.hamcrest.Matchers.containsString("options.temperature"));
        given().contentType(ContentType.JSON).body("{\"model\":\"x\",\"messages\":[]}").post("/api/chat")
                .then().statusCode(404).body("error", startsWith("model 'x'"));
        given().contentType(ContentType.JSON).body("{\"model\":\"stories260K\"}").post("/api/chat")
                .then().statusCode(400).body("error", org.hamcrest.Matchers.containsString("messages"));
    }

    static List<JsonNode> lines(String ndjson) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (String l : ndjson.split("\n")) {
            if (!l.isBlank()) {
                out.add(JSON.readTree(l));
            }
        }
        return out;
    }
}
