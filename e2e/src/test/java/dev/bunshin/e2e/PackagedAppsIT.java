package dev.bunshin.e2e;

import dev.bunshin.engine.TestModels;
import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.engine.tokenizer.Tokenizer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The real apps: the scheduler's, two workers' and two submitters' quarkus-run.jar as processes (as the launcher
 * starts them), configured only through the common keys, over a real Kafka and PostgreSQL. Run by {@code mvn verify}.
 */
class PackagedAppsIT {

    private final List<Process> processes = new ArrayList<>();

    @AfterEach
    void stopApps() throws InterruptedException {
        for (Process p : processes) p.destroy(); // SIGTERM: Quarkus shuts down cleanly, workers mark themselves stopped
        for (Process p : processes) {
            if (!p.waitFor(20, java.util.concurrent.TimeUnit.SECONDS)) p.destroyForcibly();
        }
    }

    @Test
    void jobsRunThroughThePackagedSchedulerAndTwoWorkers() throws Exception {
        Path model = TestModels.stories260K();
        Infra infra = Infra.get();
        String modelId = "stories260K-apps-" + System.nanoTime() % 100000;
        Map<String, String> common = new LinkedHashMap<>();
        common.put("kafka.bootstrap.servers", infra.kafka.bootstrapServers());
        common.put("quarkus.datasource.jdbc.url", infra.postgres.jdbcUrl());
        common.put("quarkus.datasource.username", infra.postgres.user());
        common.put("quarkus.datasource.password", infra.postgres.password());
        common.put("bunshin.model", model.toString());
        common.put("bunshin.model-id", modelId);

        Map<String, String> scheduler = new HashMap<>(common);
        int schedulerPort;
        try (var socket = new java.net.ServerSocket(0)) {
            schedulerPort = socket.getLocalPort();
        }
        scheduler.put("quarkus.http.port", Integer.toString(schedulerPort));
        scheduler.put("bunshin.scheduler.expected-workers", "2");
        start("scheduler", "scheduler", scheduler);
        int[] workerPorts = new int[3];
        for (int w = 1; w <= 2; w++) {
            try (var socket = new java.net.ServerSocket(0)) {
                workerPorts[w] = socket.getLocalPort();
            }
            Map<String, String> worker = new HashMap<>(common);
            worker.put("quarkus.http.port", Integer.toString(workerPorts[w]));
            worker.put("bunshin.worker.id", modelId + "-worker-" + w);
            worker.put("bunshin.worker.memory", "1G");
            worker.put("bunshin.worker.threads", "1");
            start("worker-" + w, "stage-worker", worker);
        }

        // Two submitters behind "one address": streams on either follow the job events on Kafka. Their polls are
        // set to five minutes, so a stream that ends within seconds of its job was fed by the events.
        int[] submitterPorts = new int[2];
        for (int s = 0; s < 2; s++) {
            try (var socket = new java.net.ServerSocket(0)) {
                submitterPorts[s] = socket.getLocalPort();
            }
            Map<String, String> submitter = new HashMap<>(common);
            submitter.put("quarkus.http.port", Integer.toString(submitterPorts[s]));
            submitter.put("bunshin.api.poll-ms", "300000");
            submitter.put("bunshin.api.notified-poll-ms", "300000");
            start("submitter-" + s, "submitter", submitter);
        }
        var http = java.net.http.HttpClient.newHttpClient();
        for (int port : submitterPorts) awaitReady(http, port, Duration.ofSeconds(90));

        Jobs jobs = new Jobs(infra.db);
        List<Long> ids = new ArrayList<>();
        Map<Long, Reference.Output> expected = new HashMap<>();
        List<java.util.concurrent.CompletableFuture<List<String>>> streams = new ArrayList<>();
        try (GgufFile file = GgufFile.open(model)) {
            Tokenizer tok = Tokenizer.fromGguf(file);
            for (String prompt : List.of("Once upon a time", "The cat sat on the mat and")) {
                int[] tokens = tok.encode(prompt, true, false);
                long id = jobs.insert(modelId, prompt, tokens, 32);
                ids.add(id);
                expected.put(id, Reference.greedy(file, tok, tokens, 32));
                for (int port : submitterPorts) {
                    streams.add(http.sendAsync(java.net.http.HttpRequest.newBuilder(java.net.URI.create(
                                    "http://127.0.0.1:" + port + "/v1/jobs/" + id + "/events")).build(),
                            java.net.http.HttpResponse.BodyHandlers.ofLines())
                            .thenApply(r -> r.body().toList()));
                }
            }
        }
        List<Jobs.Row> rows = jobs.awaitDone(ids, Duration.ofSeconds(150));
        for (Jobs.Row row : rows) {
            assertEquals("completed", row.status(), row.toString());
            assertEquals(expected.get(row.id()).text(), row.text(), "job " + row.id());
        }
        for (int i = 0; i < streams.size(); i++) {
            Jobs.Row row = rows.get(i / 2);
            // Well under the five minutes a poll would take: each stream was fed by events.
            List<String> lines = streams.get(i).get(20, java.util.concurrent.TimeUnit.SECONDS);
            long ids2 = lines.stream().filter(l -> l.startsWith("id: ")).count();
            assertEquals(row.tokenCount(), ids2, "submitter " + (i % 2) + ", job " + row.id() + ": " + lines);
            assertTrue(lines.contains("event: done"), "submitter " + (i % 2) + ", job " + row.id() + ": " + lines);
        }
        // The scheduler's GET /plan shows the two stages; each worker is ready with its stage.
        java.util.Set<String> stages = new java.util.TreeSet<>();
        for (int w = 1; w <= 2; w++) {
            var health = http.send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create("http://127.0.0.1:" + workerPorts[w] + "/q/health/ready")).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            assertEquals(200, health.statusCode(), health.body());
            var m = java.util.regex.Pattern.compile("\"stage\"\\s*:\\s*\"(\\d+) \\[").matcher(health.body());
            assertTrue(m.find(), health.body());
            stages.add(m.group(1));
        }
        assertEquals(java.util.Set.of("0", "1"), stages, "each worker runs one of the two stages");
        var response = http.send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://127.0.0.1:" + schedulerPort + "/plan")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), response.body());
        assertTrue(response.body().contains(modelId + "-worker-1") && response.body().contains(modelId + "-worker-2")
                && response.body().contains("\"epoch\":1"), response.body());
        try (var c = infra.db.getConnection(); var st = c.createStatement();
             var rs = st.executeQuery("SELECT count(*) FROM stage_plans WHERE model = '" + modelId + "'")) {
            rs.next();
            assertEquals(2, rs.getInt(1), "one plan of two stages");
        }
    }

    private static void awaitReady(java.net.http.HttpClient http, int port, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "no answer";
        while (System.nanoTime() < deadline) {
            try {
                var r = http.send(java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create("http://127.0.0.1:" + port + "/q/health/ready")).build(),
                        java.net.http.HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) return;
                last = r.statusCode() + " " + r.body();
            } catch (IOException e) {
                last = e.toString();
            }
            Thread.sleep(250);
        }
        fail("submitter on port " + port + " not ready after " + timeout + ": " + last);
    }

    private void start(String name, String module, Map<String, String> config) throws IOException {
        Path jar = Path.of("..", module, "target", "quarkus-app", "quarkus-run.jar").toAbsolutePath().normalize();
        assertTrue(Files.exists(jar), jar + " missing: run mvn verify (or package " + module + ") first");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"));
        config.forEach((k, v) -> cmd.add("-D" + k + "=" + v));
        cmd.addAll(List.of("-jar", jar.toString()));
        Path log = Path.of("target", "apps", name + ".log").toAbsolutePath();
        Files.createDirectories(log.getParent());
        processes.add(new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start());
    }
}
