package dev.bunshin.submitter;

import dev.bunshin.submitter.jobs.JobSpecs;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.response.ValidatableResponse;
import org.junit.jupiter.api.Test;

import java.util.List;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;

@QuarkusTest
@WithTestResource(TestPostgres.class)
@WithTestResource(TestKafka.class)
class JobApiTest {

    static long submit(String json) {
        return given().contentType(ContentType.JSON).body(json).post("/v1/jobs")
                .then().statusCode(202).body("status", equalTo("queued"))
                .extract().jsonPath().getLong("id");
    }

    @Test
    void submitStoresAQueuedRowWithTheTokenizedPrompt() {
        var response = given().contentType(ContentType.JSON)
                .body("{\"prompt\":\"Once upon a time\",\"max_tokens\":16,\"temperature\":0.5,\"top_p\":0.9,"
                        + "\"top_k\":40,\"min_p\":0.05,\"seed\":42,\"stop\":[\"\\n\",\"The end\"],\"repeat_penalty\":1.1,"
                        + "\"presence_penalty\":0.5,\"frequency_penalty\":-0.5}")
                .post("/v1/jobs")
                .then().statusCode(202)
                .body("status", equalTo("queued"))
                .body("model", equalTo("stories260K"))
                .extract();
        long id = response.jsonPath().getLong("id");
        assertEquals("/v1/jobs/" + id, response.header("Location"));
        // llama.cpp tokenizes "Once upon a time" for stories260K as [403, 407, 261, 378], after BOS (1).
        List<Integer> stored = given().get("/v1/jobs/" + id).then().statusCode(200)
                .body("status", equalTo("queued"))
                .body("prompt_token_count", equalTo(5))
                .body("token_count", equalTo(0))
                .body("text", equalTo(""))
                .body("max_tokens", equalTo(16))
                .body("params.seed", equalTo(42))
                .body("params.top_k", equalTo(40))
                .body("params.stop", equalTo(List.of("\n", "The end")))
                .body("timings.created_at", notNullValue())
                .body("timings.started_at", nullValue())
                .extract().jsonPath().getList("params.stop");
        assertEquals(2, stored.size());
        assertEquals("{1,403,407,261,378}", TestDb.query("SELECT prompt_tokens::text FROM jobs WHERE id = ?", id));
        assertEquals("0.5 0.9 40 0.05 1.1 0.5 -0.5 42", TestDb.query(
                "SELECT concat_ws(' ', temperature, top_p, top_k, min_p, repeat_penalty, presence_penalty, "
                        + "frequency_penalty, seed) FROM jobs WHERE id = ?", id));
    }

    @Test
    void aJobWithoutModelGetsTheDefaultModelAndDefaults() {
        long id = submit("{\"prompt\":\"Hello\"}");
        given().get("/v1/jobs/" + id).then().statusCode(200)
                .body("model", equalTo("stories260K"))
                .body("kind", equalTo("job"))
                .body("params.temperature", equalTo(0.0f))
                .body("max_tokens", equalTo(JobSpecs.DEFAULT_MAX_TOKENS));
        submit("{\"prompt\":\"Hello\",\"model\":\"stories260K\"}");
    }

    @Test
    void getShowsTokensSoFarThenTheFinalTextAndTimings() throws Exception {
        long id = submit("{\"prompt\":\"Once upon a time\",\"max_tokens\":8}");
        TestDb.start(id);
        TestDb.token(id, 0, 11, ",");
        TestDb.token(id, 1, 12, " there");
        given().get("/v1/jobs/" + id).then().statusCode(200)
                .body("status", equalTo("running"))
                .body("text", equalTo(", there"))
                .body("token_count", equalTo(2))
                .body("timings.started_at", notNullValue())
                .body("timings.first_token_at", notNullValue());
        Thread.sleep(20);
        TestDb.token(id, 2, 13, " was");
        TestDb.finish(id, "length");
        given().get("/v1/jobs/" + id).then().statusCode(200)
                .body("status", equalTo("completed"))
                .body("finish_reason", equalTo("length"))
                .body("text", equalTo(", there was"))
                .body("token_count", equalTo(3))
                .body("timings.finished_at", notNullValue())
                .body("timings.time_to_first_token_ms", notNullValue())
                .body("timings.tokens_per_second", greaterThan(0f));
    }

    @Test
    void listPagesByKeysetAndFiltersByStatus() {
        long first = submit("{\"prompt\":\"a\"}");
        for (int i = 0; i < 4; i++) {
            submit("{\"prompt\":\"b\"}");
        }
        long after = first - 1;
        ValidatableResponse page = given().get("/v1/jobs?limit=2&after=" + after).then().statusCode(200)
                .body("object", equalTo("list"))
                .body("data", hasSize(2))
                .body("has_more", equalTo(true))
                .body("data[0].id", equalTo((int) first));
        String next = page.extract().jsonPath().getString("next");
        assertEquals(first + 1, Long.parseLong(next));
        given().get("/v1/jobs?limit=2&after=" + next).then().statusCode(200)
                .body("data[0].id", equalTo((int) first + 2))
                .body("data[1].id", equalTo((int) first + 3));
        given().get("/v1/jobs?limit=200&after=" + (first + 3)).then().statusCode(200)
                .body("has_more", equalTo(false))
                .body("next", nullValue());

        TestDb.start(first);
        given().get("/v1/jobs?status=running&limit=200&after=" + after).then().statusCode(200)
                .body("data.id", equalTo(List.of((int) first)));
        given().get("/v1/jobs?status=bogus").then().statusCode(400).body("error.param", equalTo("status"));
        given().get("/v1/jobs?limit=0").then().statusCode(400).body("error.param", equalTo("limit"));
        given().get("/v1/jobs?after=x").then().statusCode(400).body("error.param", equalTo("after"));
    }

    @Test
    void deleteCancelsAndIsIdempotentButRefusesFinishedJobs() {
        long queued = submit("{\"prompt\":\"Once\"}");
        given().delete("/v1/jobs/" + queued).then().statusCode(200)
                .body("status", equalTo("cancelled"))
                .body("finish_reason", equalTo("cancelled"))
                .body("timings.finished_at", notNullValue());
        given().delete("/v1/jobs/" + queued).then().statusCode(200).body("status", equalTo("cancelled"));

        long running = submit("{\"prompt\":\"Once\"}");
        TestDb.start(running);
        TestDb.token(running, 0, 5, "Hi");
        given().delete("/v1/jobs/" + running).then().statusCode(200)
                .body("status", equalTo("cancelled"))
                .body("text", equalTo("Hi"))
                .body("token_count", equalTo(1));

        long done = submit("{\"prompt\":\"Once\"}");
        TestDb.start(done);
        TestDb.finish(done, "stop");
        given().delete("/v1/jobs/" + done).then().statusCode(409)
                .body("error.code", equalTo("job_finished"))
                .body("error.message", containsString("completed"));
        given().get("/v1/jobs/" + done).then().body("status", equalTo("completed"));

        given().delete("/v1/jobs/99999999").then().statusCode(404).body("error.code", equalTo("job_not_found"));
        given().get("/v1/jobs/99999999").then().statusCode(404).body("error.code", equalTo("job_not_found"));
        given().get("/v1/jobs/abc").then().statusCode(404).body("error.param", equalTo("id"));
    }

    @Test
    void everyBadInputIsA4xxNamingTheField() {
        String longPrompt = "Once upon a time there was a little girl. ".repeat(400);
        Object[][] cases = {
                // body, status, param, code
                {"{\"prompt\": \"hi\",", 400, null, "invalid_json"},
                {"not json", 400, null, "invalid_json"},
                {"", 400, null, "invalid_json"},
                {"[1,2]", 400, null, "invalid_json"},
                {"{}", 400, "prompt", "missing_required_parameter"},
                {"{\"prompt\": null}", 400, "prompt", "missing_required_parameter"},
                {"{\"prompt\": \"   \"}", 400, "prompt", "invalid_value"},
                {"{\"prompt\": 12}", 400, "prompt", "invalid_value"},
                {"{\"prompt\": \"hi\", \"model\": \"gpt-17\"}", 404, "model", "model_not_found"},
                {"{\"prompt\": \"hi\", \"max_tokens\": 0}", 400, "max_tokens", "invalid_value"},
                {"{\"prompt\": \"hi\", \"max_tokens\": -3}", 400, "max_tokens", "invalid_value"},
                {"{\"prompt\": \"hi\", \"max_tokens\": \"ten\"}", 400, "max_tokens", "invalid_value"},
                {"{\"prompt\": \"hi\", \"max_tokens\": 1.5}", 400, "max_tokens", "invalid_value"},
                {"{\"prompt\": \"hi\", \"max_tokens\": 5000}", 400, "max_tokens", "context_length_exceeded"},
                {"{\"prompt\": \"hi\", \"max_tokens\": 2046}", 400, "max_tokens", "context_length_exceeded"},
                {"{\"prompt\": \"" + longPrompt + "\"}", 400, "prompt", "context_length_exceeded"},
                {"{\"prompt\": \"hi\", \"temperature\": 2.5}", 400, "temperature", "invalid_value"},
                {"{\"prompt\": \"hi\", \"temperature\": -0.1}", 400, "temperature", "invalid_value"},
                {"{\"prompt\": \"hi\", \"temperature\": \"hot\"}", 400, "temperature", "invalid_value"},
                {"{\"prompt\": \"hi\", \"top_p\": 1.5}", 400, "top_p", "invalid_value"},
                {"{\"prompt\": \"hi\", \"top_p\": -1}", 400, "top_p", "invalid_value"},
                {"{\"prompt\": \"hi\", \"top_k\": -1}", 400, "top_k", "invalid_value"},
                {"{\"prompt\": \"hi\", \"min_p\": 2}", 400, "min_p", "invalid_value"},
                {"{\"prompt\": \"hi\", \"repeat_penalty\": 0}", 400, "repeat_penalty", "invalid_value"},
                {"{\"prompt\": \"hi\", \"presence_penalty\": 3}", 400, "presence_penalty", "invalid_value"},
                {"{\"prompt\": \"hi\", \"frequency_penalty\": -3}", 400, "frequency_penalty", "invalid_value"},
                {"{\"prompt\": \"hi\", \"seed\": \"x\"}", 400, "seed", "invalid_value"},
                {"{\"prompt\": \"hi\", \"stop\": [1]}", 400, "stop[0]", "invalid_value"},
                {"{\"prompt\": \"hi\", \"stop\": [\"\"]}", 400, "stop[0]", "invalid_value"},
                {"{\"prompt\": \"hi\", \"stop\": {\"a\": 1}}", 400, "stop", "invalid_value"},
        };
        long before = count();
        for (Object[] c : cases) {
            given().contentType(ContentType.JSON).body((String) c[0]).post("/v1/jobs")
                    .then().log().ifValidationFails()
                    .statusCode((Integer) c[1])
                    .contentType(ContentType.JSON)
                    .body("error.param", equalTo(c[2]))
                    .body("error.code", equalTo(c[3]))
                    .body("error.type", equalTo("invalid_request_error"))
                    .body("error.message", notNullValue());
        }
        assertEquals(before, count(), "no row for a refused request");
    }

    @Test
    void unknownRoutesAnswerJson404() {
        given().get("/v1/nothing-here").then().statusCode(404).contentType(ContentType.JSON)
                .body("error.code", equalTo("not_found"));
    }

    @Test
    void healthIsUp() {
        given().get("/q/health/ready").then().statusCode(200).body("status", equalTo("UP"));
    }

    private static long count() {
        return Long.parseLong(TestDb.query("SELECT count(*) FROM jobs"));
    }
}
