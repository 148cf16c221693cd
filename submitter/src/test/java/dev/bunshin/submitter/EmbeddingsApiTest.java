package dev.bunshin.submitter;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The embedding routes in OpenAI's and Ollama's shapes, with the tail played in the database: the k-th embedding job
 * queued gets the vector {@code [3k+3, 4k+4, 0, …]} (norm 5(k+1)), so normalised answers are {@code [0.6, 0.8, 0, …]}.
 */
@QuarkusTest
@WithTestResource(TestPostgres.class)
@WithTestResource(TestKafka.class)
class EmbeddingsApiTest {

    /** Plays the tail for the next {@code n} embedding jobs queued after {@code afterId}, in id order. */
    static CompletableFuture<List<Long>> playEmbeddings(long afterId, int n) {
        return CompletableFuture.supplyAsync(() -> {
            List<Long> done = new java.util.ArrayList<>();
            long deadline = System.nanoTime() + 20_000_000_000L;
            long after = afterId;
            while (done.size() < n && System.nanoTime() < deadline) {
                String id = TestDb.query("SELECT min(id)::text FROM jobs WHERE kind = 'embedding' AND id > ? "
                        + "AND status = 'queued'", after);
                if (id == null) {
                    Thread.onSpinWait();
                    continue;
                }
                long job = Long.parseLong(id);
                TestDb.start(job);
                float[] v = new float[64];
                v[0] = 3 * (done.size() + 1);
                v[1] = 4 * (done.size() + 1);
                TestDb.embed(job, v);
                done.add(job);
                after = job;
            }
            return done;
        });
    }

    @Test
    void openAiEmbeddingsAnswerEachInputInOrderNormalised() throws Exception {
        var tail = playEmbeddings(TestDb.maxJobId(), 2);
        JsonNode body = OpenAiApiTest.JSON.readTree(given().contentType(ContentType.JSON)
                .body("{\"model\":\"stories260K\",\"input\":[\"Once upon a time\",[1,403,407]]}")
                .post("/v1/embeddings").then().statusCode(200).extract().asString());
        List<Long> jobs = tail.get(20, TimeUnit.SECONDS);
        assertEquals("list", body.get("object").asText());
        assertEquals(2, body.get("data").size());
        for (int i = 0; i < 2; i++) {
            JsonNode d = body.get("data").get(i);
            assertEquals("embedding", d.get("object").asText());
            assertEquals(i, d.get("index").asInt());
            assertEquals(64, d.get("embedding").size());
            assertEquals(0.6, d.get("embedding").get(0).asDouble(), 1e-6);
            assertEquals(0.8, d.get("embedding").get(1).asDouble(), 1e-6);
        }
        int promptTokens = Integer.parseInt(TestDb.query("SELECT sum(cardinality(prompt_tokens))::text FROM jobs "
                + "WHERE id = ANY (?)", (Object) jobs.toArray(Long[]::new)));
        assertEquals(promptTokens, body.get("usage").get("prompt_tokens").asInt());
        assertEquals(promptTokens, body.get("usage").get("total_tokens").asInt());
        assertEquals("stories260K", body.get("model").asText());
    }

    @Test
    void base64IsLittleEndianFloat32() throws Exception {
        var tail = playEmbeddings(TestDb.maxJobId(), 1);
        String b64 = given().contentType(ContentType.JSON)
                .body("{\"model\":\"stories260K\",\"input\":\"Tim\",\"encoding_format\":\"base64\"}")
                .post("/v1/embeddings").then().statusCode(200).extract().path("data[0].embedding");
        tail.get(20, TimeUnit.SECONDS);
        ByteBuffer b = ByteBuffer.wrap(Base64.getDecoder().decode(b64)).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(64 * 4, b.capacity());
        assertEquals(0.6f, b.getFloat(0), 1e-6f);
        assertEquals(0.8f, b.getFloat(4), 1e-6f);
    }

    @Test
    void badRequestsNameTheField() {
        given().contentType(ContentType.JSON).body("{\"model\":\"stories260K\",\"input\":\"x\",\"dimensions\":8}")
                .post("/v1/embeddings").then().statusCode(400).body("error.param", equalTo("dimensions"));
        given().contentType(ContentType.JSON).body("{\"model\":\"stories260K\",\"input\":[1,99999]}")
                .post("/v1/embeddings").then().statusCode(400).body("error.param", equalTo("input"))
                .body("error.message", containsString("99999"));
        given().contentType(ContentType.JSON).body("{\"model\":\"stories260K\",\"input\":\"x\",\"encoding_format\":\"int8\"}")
                .post("/v1/embeddings").then().statusCode(400).body("error.param", equalTo("encoding_format"));
        given().contentType(ContentType.JSON).body("{\"model\":\"stories260K\"}")
                .post("/v1/embeddings").then().statusCode(400).body("error.param", equalTo("input"));
    }

    @Test
    void ollamaEmbedNormalisesAndLegacyEmbeddingsDoesNot() throws Exception {
        var tail = playEmbeddings(TestDb.maxJobId(), 2);
        JsonNode body = OpenAiApiTest.JSON.readTree(given().contentType(ContentType.JSON)
                .body("{\"model\":\"stories260K\",\"input\":[\"Once\",\"upon\"]}")
                .post("/api/embed").then().statusCode(200).extract().asString());
        tail.get(20, TimeUnit.SECONDS);
        assertEquals(2, body.get("embeddings").size());
        assertEquals(0.6, body.get("embeddings").get(1).get(0).asDouble(), 1e-6);
        assertEquals("stories260K", body.get("model").asText());
        assertEquals(true, body.get("prompt_eval_count").asInt() > 0);

        var legacy = playEmbeddings(TestDb.maxJobId(), 1);
        JsonNode raw = OpenAiApiTest.JSON.readTree(given().contentType(ContentType.JSON)
                .body("{\"model\":\"stories260K\",\"prompt\":\"Once\"}")
                .post("/api/embeddings").then().statusCode(200).extract().asString());
        legacy.get(20, TimeUnit.SECONDS);
        assertEquals(3.0, raw.get("embedding").get(0).asDouble(), 1e-6);
        assertEquals(4.0, raw.get("embedding").get(1).asDouble(), 1e-6);
    }

    @Test
    void aBatchLineEmbedsEachInputAndItsOutputLineIsTheEmbeddingsObject() throws Exception {
        String line = "{\"custom_id\":\"%s\",\"method\":\"POST\",\"url\":\"/v1/embeddings\",\"body\":%s}";
        String file = String.join("\n",
                line.formatted("e1", "{\"model\":\"stories260K\",\"input\":[\"Once upon a time\",\"Tim\"]}"),
                line.formatted("e2", "{\"model\":\"stories260K\",\"input\":\"Tim\",\"encoding_format\":\"base64\"}"),
                line.formatted("e3", "{\"model\":\"stories260K\",\"input\":[1,403,407]}"), "");
        String id = given().contentType("application/jsonl").body(file.getBytes(java.nio.charset.StandardCharsets.UTF_8))
                .post("/v1/batches").then().statusCode(202)
                .body("counts.total", equalTo(3)).body("counts.invalid", equalTo(1)).body("counts.queued", equalTo(2))
                .extract().jsonPath().getString("id");
        List<Long> jobs = BatchApiTest.jobIds(id);
        assertEquals(3, jobs.size()); // e1's two inputs, e3's one

        // The played tail: job k's vector is 2 e_k, normalised e_k. Half of e1 done: the line is running.
        for (int k = 0; k < 2; k++) {
            TestDb.start(jobs.get(k));
            float[] v = new float[64];
            v[k] = 2;
            TestDb.embed(jobs.get(k), v);
            if (k == 0) {
                given().get("/v1/batches/" + id).then().body("status", equalTo("in_progress"))
                        .body("counts.running", equalTo(1)).body("counts.queued", equalTo(1));
            }
        }
        TestDb.start(jobs.get(2));
        TestDb.fail(jobs.get(2), "stage worker 1 lost");
        given().get("/v1/batches/" + id).then().statusCode(200).body("status", equalTo("completed"))
                .body("counts.completed", equalTo(1)).body("counts.failed", equalTo(1));

        List<JsonNode> out = BatchApiTest.lines(given().get("/v1/batches/" + id + "/output").then().statusCode(200)
                .extract().asString());
        assertEquals(2, out.size());
        JsonNode body = out.get(0).get("response").get("body");
        assertEquals("e1", out.get(0).get("custom_id").asText());
        assertEquals("list", body.get("object").asText());
        assertEquals("stories260K", body.get("model").asText());
        for (int i = 0; i < 2; i++) {
            JsonNode d = body.get("data").get(i);
            assertEquals(i, d.get("index").asInt());
            assertEquals(64, d.get("embedding").size());
            assertEquals(1.0, d.get("embedding").get(i).asDouble(), 1e-6);
        }
        int promptTokens = Integer.parseInt(TestDb.query("SELECT sum(cardinality(prompt_tokens))::text FROM jobs "
                + "WHERE id = ANY (?)", (Object) new Long[] {jobs.get(0), jobs.get(1)}));
        assertEquals(promptTokens, body.get("usage").get("prompt_tokens").asInt());
        assertEquals("e3", out.get(1).get("custom_id").asText());
        assertEquals("stage worker 1 lost", out.get(1).get("error").get("message").asText());

        JsonNode error = BatchApiTest.lines(given().get("/v1/batches/" + id + "/errors").then().statusCode(200)
                .extract().asString()).getFirst();
        assertEquals(2, error.get("line").asInt());
        assertEquals("body.encoding_format", error.get("error").get("param").asText());
    }
}
