package dev.bunshin.e2e;

import dev.bunshin.engine.TestModels;
import dev.bunshin.launcher.LocalStack;
import dev.bunshin.launcher.UpOptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code ./bunshin worker --join}, exactly as {@code up --bind} prints it, against the whole system as
 * {@code ./bunshin up --bind 127.0.0.2 --workers 1 --api-key K} starts it (real Kafka, real PostgreSQL with its generated
 * password, the packaged apps): the scheduler re-plans over two workers, a job completes through the two-stage
 * pipeline with the same greedy text as through one stage, and SIGTERM stops the worker with nothing left behind.
 * Needs the packaged apps ({@code mvn verify}); {@code -Dbunshin.it.home=DIR} takes them from another checkout.
 */
class WorkerJoinIT {

    static final String BIND = "127.0.0.2";
    static final String API_KEY = "join-it-key";
    static final Path HOME = Path.of(System.getProperty("bunshin.it.home", "..")).toAbsolutePath().normalize();

    @Test
    void aWorkerJoiningWithThePrintedCommandEntersThePlanAndRunsJobs() throws Exception {
        Path model = TestModels.stories260K();
        // Under target/: as root, PostgreSQL runs as another user, who must be able to reach the data dir.
        Path dataDir = Path.of("target/worker-join-it").toAbsolutePath();
        deleteTree(dataDir);
        System.setProperty("bunshin.home", HOME.toString());
        int apiPort = quietPort();
        try (LocalStack stack = LocalStack.start(UpOptions.parse(new String[] {
                "--model", model.toString(), "--workers", "1", "--port", Integer.toString(apiPort),
                "--bind", BIND, "--kafka-port", Integer.toString(quietPort()),
                "--db-port", Integer.toString(quietPort()), "--data-dir", dataDir.toString(), "--threads", "1",
                "--api-key", API_KEY}),
                System.out)) {
            String password = Files.readString(dataDir.resolve("db-password")).strip();
            String before = completedText(stack.apiUrl());
            assertEquals(List.of("worker-1"), planWorkers(stack, password));

            // The line up printed, run as a user would (ours adds only an id, a thread, a GiB and a data dir).
            String join = stack.joinCommand();
            Matcher m = Pattern.compile("BUNSHIN_KAFKA_PASSWORD=(\\S+) BUNSHIN_DB_PASSWORD=(\\S+) \\./bunshin worker (.*)")
                    .matcher(join);
            assertTrue(m.matches(), join);
            String kafkaPassword = m.group(1);
            assertEquals(Files.readString(dataDir.resolve("kafka-password")).strip(), kafkaPassword);
            assertEquals(password, m.group(2));
            List<String> command = new ArrayList<>(List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), "-Dbunshin.home=" + HOME,
                    "dev.bunshin.launcher.Worker"));
            command.addAll(Arrays.asList(m.group(3).split(" ")));
            command.addAll(List.of("--id", "joined-1", "--threads", "1", "--memory", "1G",
                    "--data-dir", dataDir.resolve("joiner").toString()));
            Path out = dataDir.resolve("worker-command.out");
            ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile());
            pb.environment().put("BUNSHIN_DB_PASSWORD", password);
            // The broker on the bind address wants a login: the joined worker's producers and consumers log in
            // with this (SCRAM), where the stack's own apps use its loopback listener.
            pb.environment().put("BUNSHIN_KAFKA_PASSWORD", kafkaPassword);
            Process worker = pb.start();
            List<ProcessHandle> children = List.of();
            try {
                awaitOutput(worker, out, "Worker joined-1 is up");
                children = worker.descendants().toList();
                assertFalse(children.isEmpty(), "the worker command runs the stage worker as its child");
                assertTrue(Files.readString(out).contains("Log: " + dataDir.resolve("joiner/logs/joined-1.log")),
                        Files.readString(out));

                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
                List<String> plan = planWorkers(stack, password);
                while (plan.size() < 2 && System.nanoTime() < deadline) {
                    Thread.sleep(500);
                    plan = planWorkers(stack, password);
                }
                assertEquals(2, plan.size(), "the scheduler re-plans over both workers: " + plan);
                assertTrue(plan.contains("joined-1") && plan.contains("worker-1"), plan.toString());

                assertEquals(before, completedText(stack.apiUrl()), "greedy text through 2 stages = through 1");
            } finally {
                worker.destroy(); // SIGTERM, as a service manager (or Ctrl-C) would
                assertTrue(worker.waitFor(60, TimeUnit.SECONDS), "worker command did not stop on SIGTERM");
            }
            for (ProcessHandle child : children) {
                child.onExit().get(10, TimeUnit.SECONDS);
                assertFalse(child.isAlive(), "orphan " + child.pid() + " " + child.info().commandLine().orElse(""));
            }
            assertTrue(Files.readString(out).contains("Stopped."), Files.readString(out));
        }
    }

    /** Submits a greedy job and waits for it; returns its text. */
    private static String completedText(String api) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        HttpResponse<String> refused = http.send(HttpRequest.newBuilder(URI.create(api + "/v1/jobs"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\": \"x\"}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(401, refused.statusCode(), "up --api-key reaches the submitter: " + refused.body());
        HttpResponse<String> posted = http.send(HttpRequest.newBuilder(URI.create(api + "/v1/jobs"))
                .header("Content-Type", "application/json").header("Authorization", "Bearer " + API_KEY)
                .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\": \"Once upon a time\", \"max_tokens\": 24}"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(202, posted.statusCode(), posted.body());
        Matcher id = Pattern.compile("\"id\":\\s*(\\d+)").matcher(posted.body());
        assertTrue(id.find(), posted.body());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        String body = "";
        while (System.nanoTime() < deadline) {
            body = http.send(HttpRequest.newBuilder(URI.create(api + "/v1/jobs/" + id.group(1)))
                            .header("Authorization", "Bearer " + API_KEY).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            if (body.contains("\"status\":\"completed\"") || body.contains("\"status\":\"failed\"")) {
                break;
            }
            Thread.sleep(200);
        }
        assertTrue(body.contains("\"status\":\"completed\""), body);
        Matcher text = Pattern.compile("\"text\":\"((?:[^\"\\\\]|\\\\.)*)\"").matcher(body);
        assertTrue(text.find(), body);
        assertFalse(text.group(1).isEmpty(), body);
        return text.group(1);
    }

    /** The workers of the current plan, stage by stage, read as another machine would (remote URL, password). */
    private static List<String> planWorkers(LocalStack stack, String password) throws Exception {
        try (Connection c = DriverManager.getConnection(stack.remoteJdbcUrl(), "bunshin", password);
             PreparedStatement ps = c.prepareStatement("""
                     SELECT worker_id FROM stage_plans WHERE model = 'stories260K'
                     AND epoch = (SELECT max(epoch) FROM stage_plans WHERE model = 'stories260K') ORDER BY stage""");
             ResultSet rs = ps.executeQuery()) {
            List<String> workers = new ArrayList<>();
            while (rs.next()) {
                workers.add(rs.getString(1));
            }
            return workers;
        }
    }

    private static void awaitOutput(Process p, Path out, String line) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        while (System.nanoTime() < deadline) {
            String text = Files.exists(out) ? Files.readString(out, StandardCharsets.UTF_8) : "";
            if (text.contains(line)) {
                return;
            }
            if (!p.isAlive()) {
                throw new AssertionError("worker command exited " + p.exitValue() + ":\n" + text);
            }
            Thread.sleep(250);
        }
        throw new AssertionError("no \"" + line + "\" within 180 s:\n" + Files.readString(out));
    }

    /** A free port below the ephemeral range, so that no child's own free-port pick takes it after we release it. */
    private static int quietPort() throws IOException {
        Random random = new Random();
        while (true) {
            int port = 20000 + random.nextInt(12000);
            try (ServerSocket a = new ServerSocket(port, 1, InetAddress.getByName(BIND));
                 ServerSocket b = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
                return port;
            } catch (IOException taken) {
                // try another
            }
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
