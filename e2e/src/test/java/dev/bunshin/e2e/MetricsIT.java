package dev.bunshin.e2e;

import dev.bunshin.launcher.LocalStack;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code /q/metrics} of every app as {@code ./bunshin up} starts them (a real Kafka and PostgreSQL, the packaged
 * scheduler, submitter and two stage workers generating with stories260K): each serves Prometheus text; a job moves
 * the tail's token counter by exactly its token count and its time-to-first-token histogram by one; the engine is
 * timed on both stages; the scheduler's gauges see the plan, the workers and the completed job. Run by
 * {@code mvn verify} (it needs the packaged apps).
 */
class MetricsIT {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    static LocalStack stack;

    @BeforeAll
    static void up() throws Exception {
        stack = UpStack.start("metrics-it");
    }

    @AfterAll
    static void down() {
        if (stack != null) stack.close();
    }

    @Test
    void everyAppServesPrometheusTextAndTheTailsCountersMoveWithAJob() throws Exception {
        Map<String, String> urls = stack.metricsUrls();
        assertEquals(List.of("scheduler", "submitter", "worker-1", "worker-2"), List.copyOf(urls.keySet()), urls.toString());
        for (var e : urls.entrySet()) {
            PrometheusText m = scrape(e.getValue());
            assertTrue(m.sum("jvm_memory_used_bytes") > 0, e.getKey() + " serves the JVM's meters:\n" + m.text);
        }
        List<String> workers = List.of(urls.get("worker-1"), urls.get("worker-2"));
        PrometheusText[] before = {scrape(workers.get(0)), scrape(workers.get(1))};

        ApiClient api = new ApiClient(stack.apiUrl());
        String done = api.awaitEnd(api.submit("Once upon a time", 24), Duration.ofSeconds(120));
        assertEquals("completed", ApiClient.status(done), done);
        int tokens = ApiClient.tokenCount(done);
        assertTrue(tokens > 0, done);

        // The tail counts a token just after its commit, which the job's status shows: wait out that instant.
        PrometheusText[] after = new PrometheusText[2];
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        do {
            after[0] = scrape(workers.get(0));
            after[1] = scrape(workers.get(1));
        } while (delta(before, after, "bunshin_tokens_generated_total") < tokens && System.nanoTime() < deadline
                && sleep(100));
        assertEquals(tokens, delta(before, after, "bunshin_tokens_generated_total"), 1e-9,
                "tokens counted by the tail\n" + after[0].text + after[1].text);
        assertEquals(1, delta(before, after, "bunshin_time_to_first_token_seconds_count"), 1e-9, "one first token");
        assertEquals(tokens - 1, delta(before, after, "bunshin_token_latency_seconds_count"), 1e-9,
                "one interval per token after the first");
        assertEquals(1, delta(before, after, "bunshin_jobs_completed_total"), 1e-9, "one job completed");
        double ttft = delta(before, after, "bunshin_time_to_first_token_seconds_sum");
        assertTrue(ttft > 0 && ttft < 120, "time to first token " + ttft + " s");
        assertEquals("histogram", after[0].types.get("bunshin_time_to_first_token_seconds"));
        assertEquals("counter", after[0].types.get("bunshin_tokens_generated_total"));
        for (String stage : List.of("0", "1")) {
            assertTrue(sum(after, "bunshin_engine_call_seconds_count", "stage", stage) > 0, "stage " + stage + " timed");
            assertTrue(sum(after, "bunshin_engine_batch_positions_sum", "stage", stage) >= tokens, "stage " + stage);
        }
        for (PrometheusText w : after) {
            assertTrue(w.sum("bunshin_worker_memory_resident_bytes") > 1 << 20, w.text);
            assertTrue(w.sum("bunshin_worker_memory_advertised_bytes") >= 1 << 30, w.text); // up gives each at least 1G
        }
        // The pipeline is idle again: each stage's consumer has read its topic to the end.
        awaitEach(workers, w -> w.matching("bunshin_consumer_lag").size() == 1 && w.sum("bunshin_consumer_lag") == 0,
                "a consumer lag of 0 on each worker's stage topic");

        awaitEach(List.of(urls.get("scheduler")), s -> s.sum("bunshin_plan_stages") == 2
                        && s.sum("bunshin_workers", "status", "live") == 2
                        && s.sum("bunshin_jobs", "status", "completed") >= 1 && s.sum("bunshin_queue_depth") == 0,
                "the scheduler's gauges: a 2-stage plan, 2 live workers, the job completed, none queued");
        double epoch = scrape(urls.get("scheduler")).sum("bunshin_plan_epoch");
        assertTrue(epoch >= 1, "plan epoch " + epoch);
        awaitEach(workers, w -> w.sum("bunshin_worker_plan_epoch") == epoch, "each worker follows plan epoch " + epoch);
        PrometheusText submitter = scrape(urls.get("submitter"));
        assertTrue(submitter.sum("http_server_requests_seconds_count", "method", "POST") >= 1, submitter.text);
    }

    private static double delta(PrometheusText[] before, PrometheusText[] after, String name) {
        double d = 0;
        for (int i = 0; i < before.length; i++) d += after[i].sum(name) - before[i].sum(name);
        return d;
    }

    private static double sum(PrometheusText[] scrapes, String name, String... labels) {
        double s = 0;
        for (PrometheusText p : scrapes) s += p.sum(name, labels);
        return s;
    }

    /** Scrapes each of {@code urls} until {@code ok} holds for every one (gauges are read or cached for seconds). */
    private static void awaitEach(List<String> urls, Predicate<PrometheusText> ok, String what) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        for (String url : urls) {
            PrometheusText m = scrape(url);
            while (!ok.test(m)) {
                if (System.nanoTime() > deadline) fail("no " + what + " at " + url + ":\n" + m.text);
                Thread.sleep(250);
                m = scrape(url);
            }
        }
    }

    /** GET {@code url} as Prometheus does: 200 in HTTP/1.1, the text format 0.0.4, parsed. */
    static PrometheusText scrape(String url) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
                .header("Accept", "text/plain").build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), url + ": " + r.body());
        // The client offered an h2c upgrade (HttpClient's default); the apps answer in HTTP/1.1 (quarkus.http.http2=false).
        assertEquals(HttpClient.Version.HTTP_1_1, r.version(), url + " answered an h2c upgrade");
        String type = r.headers().firstValue("Content-Type").orElse("");
        assertTrue(type.startsWith("text/plain") && type.contains("version=0.0.4"), url + " Content-Type " + type);
        return new PrometheusText(r.body());
    }

    private static boolean sleep(long millis) throws InterruptedException {
        Thread.sleep(millis);
        return true;
    }
}
