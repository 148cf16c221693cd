package dev.bunshin.submitter;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bunshin.db.PlanTable;
import dev.bunshin.db.StagePlan;
import dev.bunshin.db.WorkersTable;
import dev.bunshin.protocol.events.EventPublisher;
import dev.bunshin.protocol.events.JobEvent;
import dev.bunshin.submitter.jobs.JobEvents;
import io.agroal.api.AgroalDataSource;
import io.quarkus.arc.Arc;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.List;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code GET /v1/cluster} and its stream: the workers and plan as the scheduler and workers wrote them, the queue,
 * recent jobs and batches, and the throughput sampled from the jobs' token counts; the dashboard page is served.
 */
@QuarkusTest
@WithTestResource(TestPostgres.class)
@WithTestResource(TestKafka.class)
class ClusterApiTest {

    static final String MODEL = "stories260K"; // 5 layers
    static final ObjectMapper JSON = new ObjectMapper();
    static final String W0 = "cluster-api-w0", W1 = "cluster-api-w1";

    @TestHTTPResource("/")
    URI base;

    @BeforeEach
    void twoWorkersAndAPlan() throws Exception {
        try (Connection c = db().getConnection()) {
            WorkersTable.register(c, W0, MODEL, "host-a", 2L << 30, 2, 3.5);
            WorkersTable.register(c, W1, MODEL, "host-b", 1L << 30, 1, 1.5);
            try (PreparedStatement ps = c.prepareStatement("UPDATE workers SET backend_detail = ? WHERE id = ?")) {
                ps.setString(1, "Java Vector API, 2 threads");
                ps.setString(2, W0);
                ps.executeUpdate();
            }
            int epoch = PlanTable.currentEpoch(c, MODEL) + 1_000;
            PlanTable.insert(c, new StagePlan(MODEL, epoch, 256, List.of(
                    new StagePlan.Stage(0, W0, 0, 3, "t0"), new StagePlan.Stage(1, W1, 3, 5, "t1"))));
        }
    }

    @AfterEach
    void removeThem() {
        TestDb.removeWorkers(W0, W1);
    }

    static AgroalDataSource db() {
        return Arc.container().instance(AgroalDataSource.class).get();
    }

    private JsonNode cluster(String query) throws Exception {
        String body = given().get("/v1/cluster" + query).then().statusCode(200).extract().asString();
        return JSON.readTree(body);
    }

    @Test
    void showsTheWorkersAndThePlanAsTheyAreInTheDatabase() throws Exception {
        JsonNode c = cluster("");
        assertEquals(MODEL, c.at("/model/id").asText());
        assertEquals(5, c.at("/model/layers").asInt());
        JsonNode w0 = worker(c, W0), w1 = worker(c, W1);
        assertEquals("host-a", w0.get("host").asText());
        assertEquals("live", w0.get("status").asText());
        assertEquals("Java Vector API, 2 threads", w0.get("device").asText(), "backend_detail is the device line");
        assertEquals(2L << 30, w0.get("memory_bytes").asLong());
        assertEquals(3.5, w0.get("speed_gflops").asDouble());
        assertTrue(w0.get("heartbeat_age_ms").asLong() < 60_000, w0.toString());
        assertEquals(List.of(0, 3), List.of(w0.at("/layers/0").asInt(), w0.at("/layers/1").asInt()));
        assertEquals(1, w1.get("stage").asInt());
        // The first stage holds the embedding too, the last the head: both more than their layers alone.
        assertTrue(w0.get("stage_weights_bytes").asLong() > 0 && w1.get("stage_weights_bytes").asLong() > 0, c.toString());

        JsonNode plan = c.get("plan");
        assertEquals(256, plan.get("context_length").asInt());
        assertEquals(5, plan.get("layers").asInt());
        assertEquals(W1, plan.at("/stages/1/worker_id").asText());
        assertEquals(3, plan.at("/stages/1/layer_start").asInt());
        assertEquals(5, plan.at("/stages/1/layer_end").asInt());
    }

    @Test
    void countsTheQueueListsRecentJobsAndMeasuresThroughput() throws Exception {
        long queued = submit("Once upon a time");
        long ran = submit("The little dog");
        JsonNode before = cluster("?jobs=5");
        assertTrue(before.at("/queue/queued").asLong() >= 2, before.get("queue").toString());
        assertEquals(ran, before.at("/jobs/recent/0/id").asLong(), "newest first");
        assertEquals("queued", before.at("/jobs/recent/1/status").asText());
        assertTrue(before.at("/jobs/recent").size() <= 5);

        TestDb.start(ran);
        for (int p = 0; p < 40; p++) {
            TestDb.token(ran, p, 300 + p, " w" + p);
        }
        // The sampler reads the token counts once a second: 40 tokens show as a rate within a few seconds.
        JsonNode after = null;
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (System.nanoTime() < deadline) {
            after = cluster("");
            if (after.at("/throughput/tokens_per_second").asDouble() > 0) break;
            Thread.sleep(200);
        }
        assertNotNull(after);
        assertTrue(after.at("/throughput/tokens_per_second").asDouble() > 0, after.get("throughput").toString());
        assertTrue(after.at("/throughput/series").size() >= 1);
        assertEquals(600, after.at("/throughput/window_s").asInt());
        JsonNode running = recent(after, ran);
        assertEquals("running", running.get("status").asText());
        assertEquals(40, running.get("token_count").asInt());
        assertTrue(after.at("/queue/running").asLong() >= 1);
        TestDb.finish(ran, "length");
        TestDb.start(queued);
        TestDb.finish(queued, "stop");
        assertEquals("completed", recent(cluster(""), ran).get("status").asText());
    }

    @Test
    void showsBatchesWithTheirProgress() throws Exception {
        String body = given().contentType("application/jsonl").body(String.join("\n",
                "{\"custom_id\":\"c1\",\"method\":\"POST\",\"url\":\"/v1/jobs\",\"body\":{\"prompt\":\"Once\",\"max_tokens\":2}}",
                "{\"custom_id\":\"c2\",\"method\":\"POST\",\"url\":\"/v1/jobs\",\"body\":{\"prompt\":\"\"}}",
                "{\"custom_id\":\"c3\",\"method\":\"POST\",\"url\":\"/v1/jobs\",\"body\":{\"prompt\":\"Lily\",\"max_tokens\":2}}")
                .getBytes(java.nio.charset.StandardCharsets.UTF_8))
                .post("/v1/batches").then().statusCode(202).extract().asString();
        String id = JSON.readTree(body).get("id").asText();
        long first = Long.parseLong(TestDb.query("SELECT min(id)::text FROM jobs WHERE batch_id = ?", id));
        TestDb.start(first);
        TestDb.token(first, 0, 9, " upon");
        TestDb.finish(first, "length");
        JsonNode b = null;
        for (JsonNode x : cluster("?batches=100").get("batches")) {
            if (x.get("id").asText().equals(id)) b = x;
        }
        assertNotNull(b, "batch " + id + " listed");
        assertEquals(3, b.get("total").asInt());
        assertEquals(1, b.get("completed").asInt());
        assertEquals(1, b.get("failed").asInt(), "the invalid line counts as failed, as OpenAI's request_counts");
        assertEquals(1, b.get("queued").asInt());
    }

    @Test
    void badParametersAre400NamingTheField() {
        given().get("/v1/cluster?jobs=0").then().statusCode(400)
                .body("error.param", equalTo("jobs")).body("error.message", containsString("got 0"));
        given().get("/v1/cluster?batches=x").then().statusCode(400)
                .body("error.param", equalTo("batches")).body("error.message", containsString("'x'"));
        given().get("/v1/cluster/events?interval_ms=5").then().statusCode(400)
                .body("error.param", equalTo("interval_ms"));
    }

    @Test
    void theStreamSendsASnapshotEverySecondOrSo() throws Exception {
        try (SseClient sse = SseClient.open(base.resolve("/v1/cluster/events?interval_ms=200"), null)) {
            assertEquals(200, sse.response.statusCode());
            assertTrue(sse.response.headers().firstValue("content-type").orElse("").startsWith("text/event-stream"));
            long t0 = System.nanoTime();
            for (int i = 0; i < 3; i++) {
                SseClient.Event e = sse.next();
                assertNotNull(e);
                assertEquals("cluster", e.event());
                JsonNode c = JSON.readTree(e.data());
                assertNotNull(worker(c, W0));
            }
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(ms >= 350, "three snapshots 200 ms apart took " + ms + " ms");
        }
    }

    @Test
    void aJobThatEndsBringsTheNextSnapshotAtOnceNotAfterTheInterval() throws Exception {
        JobEvents events = Arc.container().instance(JobEvents.class).get();
        for (int i = 0; i < 300 && !events.listening(); i++) Thread.sleep(100);
        assertTrue(events.listening(), "the submitter follows " + EventPublisher.TOPIC);
        long id = JobApiTest.submit("{\"prompt\":\"Once upon a time\",\"max_tokens\":5}");
        TestDb.start(id);
        try (SseClient sse = SseClient.open(base.resolve("/v1/cluster/events?interval_ms=60000"), null);
             EventPublisher tail = new EventPublisher(TestKafka.broker().bootstrapServers())) {
            SseClient.Event first = sse.next();
            assertEquals("running", recent(JSON.readTree(first.data()), id).get("status").asText());
            long t0 = System.nanoTime();
            TestDb.finish(id, "stop");
            tail.publish(JobEvent.status(id, "completed"));
            SseClient.Event next = sse.next();
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertEquals("completed", recent(JSON.readTree(next.data()), id).get("status").asText());
            assertTrue(ms < 10_000, "the snapshot after the job ended came " + ms + " ms later, not within seconds");
        }
    }

    @Test
    void theDashboardIsServedAndTheRootLeadsToIt() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        HttpResponse<String> root = http.send(HttpRequest.newBuilder(base.resolve("/")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(302, root.statusCode());
        assertEquals("/ui/", root.headers().firstValue("location").orElse(""));
        given().get("/ui/").then().statusCode(200).contentType(containsString("text/html"))
                .body(containsString("<title>Bunshin</title>"));
        given().get("/ui/dashboard.js").then().statusCode(200).body(containsString("/v1/cluster/events"));
    }

    private long submit(String prompt) throws Exception {
        String body = given().contentType(ContentType.JSON).body("{\"prompt\":\"" + prompt + "\",\"max_tokens\":64}")
                .post("/v1/jobs").then().statusCode(202).extract().asString();
        return JSON.readTree(body).get("id").asLong();
    }

    static JsonNode worker(JsonNode cluster, String id) {
        for (JsonNode w : cluster.get("workers")) {
            if (w.get("id").asText().equals(id)) return w;
        }
        throw new AssertionError("worker " + id + " not in " + cluster.get("workers"));
    }

    static JsonNode recent(JsonNode cluster, long job) {
        for (JsonNode j : cluster.at("/jobs/recent")) {
            if (j.get("id").asLong() == job) return j;
        }
        throw new AssertionError("job " + job + " not in " + cluster.at("/jobs/recent"));
    }
}
