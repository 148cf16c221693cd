package dev.bunshin.submitter;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.nullValue;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

@QuarkusTest
@WithTestResource(TestPostgres.class)
@WithTestResource(TestKafka.class)
class BatchApiTest {

    static final ObjectMapper JSON = new ObjectMapper();

    static final String FILE = String.join("\n",
            "{\"custom_id\":\"a\",\"method\":\"POST\",\"url\":\"/v1/jobs\",\"body\":{\"prompt\":\"Once upon a time\",\"max_tokens\":4}}",
            "{\"custom_id\":\"b\",\"method\":\"POST\",\"url\":\"/v1/completions\",\"body\":{\"prompt\":\"Once\",\"max_tokens\":4}}",
            "this is not json",
            "",
            "{\"custom_id\":\"c\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"max_tokens\":4}}",
            "{\"method\":\"POST\",\"url\":\"/v1/jobs\",\"body\":{\"prompt\":\"x\"}}",
            "{\"custom_id\":\"e\",\"method\":\"POST\",\"url\":\"/v1/moderations\",\"body\":{\"input\":\"x\"}}",
            "{\"custom_id\":\"f\",\"method\":\"POST\",\"url\":\"/v1/jobs\",\"body\":{\"prompt\":\"x\",\"max_tokens\":0}}",
            "{\"custom_id\":\"a\",\"method\":\"POST\",\"url\":\"/v1/jobs\",\"body\":{\"prompt\":\"x\"}}",
            "{\"custom_id\":\"g\",\"method\":\"GET\",\"url\":\"/v1/jobs\",\"body\":{\"prompt\":\"x\"}}",
            "{\"custom_id\":\"h\",\"method\":\"POST\",\"url\":\"/v1/jobs\",\"body\":{\"prompt\":\"Once\",\"temperature\":9}}",
            "{\"custom_id\":\"i\",\"method\":\"POST\",\"url\":\"/v1/jobs\",\"body\":{\"prompt\":\"The end\",\"max_tokens\":2}}",
            "");

    @Test
    void aJsonlBatchRunsItsValidLinesAndReportsTheInvalidOnesByLineAndField() throws Exception {
        String id = given().contentType("application/jsonl").body(FILE.getBytes(StandardCharsets.UTF_8)).post("/v1/batches")
                .then().statusCode(202)
                .body("id", startsWith("batch_"))
                .body("object", equalTo("batch"))
                .body("status", equalTo("in_progress"))
                .body("counts.total", equalTo(11))
                .body("counts.invalid", equalTo(7))
                .body("counts.accepted", equalTo(4))
                .body("counts.queued", equalTo(4))
                .extract().jsonPath().getString("id");

        // Line numbers are the file's own (1-based, blank lines counted as lines but not as requests).
        List<JsonNode> errors = lines(given().get("/v1/batches/" + id + "/errors")
                .then().statusCode(200).contentType(startsWith("application/jsonl")).extract().asString());
        assertEquals(List.of(3, 6, 7, 8, 9, 10, 11), errors.stream().map(e -> e.get("line").asInt()).toList());
        assertEquals("invalid_json", errors.get(0).get("error").get("code").asText());
        assertEquals("custom_id", errors.get(1).get("error").get("param").asText());
        assertEquals("url", errors.get(2).get("error").get("param").asText());
        assertEquals("body.max_tokens", errors.get(3).get("error").get("param").asText());
        assertEquals("duplicate_custom_id", errors.get(4).get("error").get("code").asText());
        assertEquals("method", errors.get(5).get("error").get("param").asText());
        assertEquals("body.temperature", errors.get(6).get("error").get("param").asText());
        assertEquals("h", errors.get(6).get("custom_id").asText());

        // The pipeline runs the jobs (played in the database): a, b, c complete, i fails.
        List<Long> jobs = jobIds(id);
        assertEquals(4, jobs.size());
        String[] texts = {", there was", " upon", "Hello!", null};
        for (int k = 0; k < jobs.size(); k++) {
            long j = jobs.get(k);
            TestDb.start(j);
            if (texts[k] == null) {
                TestDb.fail(j, "worker lost");
                continue;
            }
            TestDb.token(j, 0, 7, texts[k].substring(0, 1));
            TestDb.token(j, 1, 8, texts[k].substring(1));
            if (k == 0) {
                given().get("/v1/batches/" + id).then().body("status", equalTo("in_progress"))
                        .body("counts.running", equalTo(1));
            }
            TestDb.finish(j, "length");
        }
        given().get("/v1/batches/" + id).then().statusCode(200)
                .body("status", equalTo("completed"))
                .body("counts.completed", equalTo(3))
                .body("counts.failed", equalTo(1))
                .body("request_counts.total", equalTo(11))
                .body("request_counts.completed", equalTo(3))
                .body("request_counts.failed", equalTo(8))
                .body("output_file_id", startsWith("file-"))
                .body("error_file_id", startsWith("file-"))
                .body("completed_at", notNullValue());

        String output = given().get("/v1/batches/" + id + "/output").then().statusCode(200).extract().asString();
        List<JsonNode> out = lines(output);
        assertEquals(List.of("a", "b", "c", "i"), out.stream().map(o -> o.get("custom_id").asText()).toList());
        assertEquals(List.of(1, 2, 5, 12), out.stream().map(o -> o.get("line").asInt()).toList());
        assertEquals(", there was", out.get(0).get("response").get("body").get("text").asText());
        assertEquals("job", out.get(0).get("response").get("body").get("object").asText());
        assertEquals(" upon", out.get(1).get("response").get("body").get("choices").get(0).get("text").asText());
        assertEquals("text_completion", out.get(1).get("response").get("body").get("object").asText());
        assertEquals("Hello!", out.get(2).get("response").get("body").get("choices").get(0).get("message").get("content").asText());
        assertEquals(2, out.get(2).get("response").get("body").get("usage").get("completion_tokens").asInt());
        assertTrue(out.get(3).get("response").isNull());
        assertEquals("worker lost", out.get(3).get("error").get("message").asText());

        // The OpenAI output file is the same content.
        String fileId = given().get("/v1/batches/" + id).jsonPath().getString("output_file_id");
        assertEquals(output, given().get("/v1/files/" + fileId + "/content").then().statusCode(200).extract().asString());
        given().get("/v1/files/" + fileId).then().body("purpose", equalTo("batch_output"));
    }

    @Test
    void aMultipartUploadIsABatchToo() {
        String id = given().multiPart("file", "mine.jsonl", FILE.getBytes(StandardCharsets.UTF_8), "application/jsonl")
                .post("/v1/batches").then().statusCode(202)
                .body("counts.accepted", equalTo(4)).extract().jsonPath().getString("id");
        String input = given().get("/v1/batches/" + id).jsonPath().getString("input_file_id");
        given().get("/v1/files/" + input).then().body("filename", equalTo("mine.jsonl")).body("purpose", equalTo("batch"));
    }

    @Test
    void theOpenAiFlowUploadsAFileCreatesABatchAndCancelsIt() {
        String chat = String.join("\n",
                "{\"custom_id\":\"r1\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"stories260K\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}}",
                "{\"custom_id\":\"r2\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"messages\":[{\"role\":\"user\",\"content\":\"Yo\"}]}}",
                "{\"custom_id\":\"r3\",\"method\":\"POST\",\"url\":\"/v1/completions\",\"body\":{\"prompt\":\"Yo\"}}");
        String fileId = given().multiPart("file", "chat.jsonl", chat.getBytes(StandardCharsets.UTF_8))
                .multiPart("purpose", "batch")
                .post("/v1/files").then().statusCode(200)
                .body("object", equalTo("file"))
                .body("bytes", equalTo(chat.getBytes(StandardCharsets.UTF_8).length))
                .extract().jsonPath().getString("id");
        given().multiPart("file", "x.jsonl", new byte[]{1}).multiPart("purpose", "fine-tune").post("/v1/files")
                .then().statusCode(400).body("error.param", equalTo("purpose"));

        String id = given().contentType(ContentType.JSON)
                .body("{\"input_file_id\":\"" + fileId + "\",\"endpoint\":\"/v1/chat/completions\",\"completion_window\":\"24h\",\"metadata\":{\"k\":\"v\"}}")
                .post("/v1/batches").then().statusCode(200)
                .body("status", equalTo("in_progress"))
                .body("endpoint", equalTo("/v1/chat/completions"))
                .body("input_file_id", equalTo(fileId))
                .body("metadata.k", equalTo("v"))
                .body("request_counts.total", equalTo(3))
                .body("request_counts.failed", equalTo(1))
                .extract().jsonPath().getString("id");
        given().get("/v1/batches/" + id + "/errors").then().body(startsWith("{\"id\":\"batch_req_line_3\""));

        List<Long> jobs = jobIds(id);
        TestDb.start(jobs.get(0));
        TestDb.token(jobs.get(0), 0, 5, "Hel");
        TestDb.finish(jobs.get(0), "stop");
        given().post("/v1/batches/" + id + "/cancel").then().statusCode(200)
                .body("status", equalTo("cancelled"))
                .body("cancelled_at", notNullValue())
                .body("counts.completed", equalTo(1))
                .body("counts.cancelled", equalTo(1))
                .body("output_file_id", notNullValue());
        given().post("/v1/batches/" + id + "/cancel").then().statusCode(200).body("status", equalTo("cancelled"));
        given().get("/v1/jobs/" + jobs.get(1)).then().body("status", equalTo("cancelled"));
        given().get("/v1/batches?limit=1").then().statusCode(200).body("data[0].object", equalTo("batch"));
        given().delete("/v1/files/" + fileId).then().statusCode(409);
    }

    @Test
    void badBatchesAreRefusedByField() {
        given().contentType("application/jsonl").body("\n\n".getBytes(StandardCharsets.UTF_8)).post("/v1/batches").then().statusCode(400)
                .body("error.code", equalTo("empty_file"));
        given().contentType(ContentType.JSON).body("{\"endpoint\":\"/v1/chat/completions\"}").post("/v1/batches")
                .then().statusCode(400).body("error.param", equalTo("input_file_id"));
        given().contentType(ContentType.JSON).body("{\"input_file_id\":\"file-nope\",\"endpoint\":\"/v1/chat/completions\"}")
                .post("/v1/batches").then().statusCode(404).body("error.param", equalTo("input_file_id"));
        given().contentType(ContentType.JSON).body("{\"input_file_id\":\"file-nope\",\"endpoint\":\"/v1/moderations\"}")
                .post("/v1/batches").then().statusCode(400).body("error.param", equalTo("endpoint"));
        given().get("/v1/batches/batch_nope").then().statusCode(404).body("error.code", equalTo("batch_not_found"));
        given().post("/v1/batches/batch_nope/cancel").then().statusCode(404);

        // Every line invalid: the batch exists, failed, with its errors listed.
        given().contentType("application/jsonl").body("{\"custom_id\":\"x\"}\nnope\n".getBytes(StandardCharsets.UTF_8)).post("/v1/batches")
                .then().statusCode(202)
                .body("status", equalTo("failed"))
                .body("errors.data[0].line", equalTo(1))
                .body("errors.data[0].param", equalTo("url"))
                .body("errors.data[1].code", equalTo("invalid_json"))
                .body("output_file_id", notNullValue());
        // JSONL sent as application/json is still a batch file.
        given().contentType(ContentType.JSON).body(FILE).post("/v1/batches").then().statusCode(202)
                .body("counts.accepted", equalTo(4));
    }

    static List<Long> jobIds(String batch) {
        List<Long> ids = new ArrayList<>();
        for (String s : TestDb.query("SELECT string_agg(id::text, ',' ORDER BY batch_line, id) FROM jobs WHERE batch_id = ?",
                batch).split(",")) {
            ids.add(Long.parseLong(s));
        }
        return ids;
    }

    static List<JsonNode> lines(String jsonl) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (String l : jsonl.split("\n")) {
            if (!l.isBlank()) {
                out.add(JSON.readTree(l));
            }
        }
        return out;
    }
}
