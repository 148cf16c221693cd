package dev.bunshin.e2e;

import dev.bunshin.engine.TestModels;
import dev.bunshin.launcher.UpProcess;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Faults under {@code ./bunshin up --workers 2} (run as a user runs it, in a JVM of its own, with stories260K and the
 * packaged apps): kill -9 of a stage worker while jobs run → it is restarted, the jobs that were running and a job
 * submitted after complete with the undisturbed greedy text; kill -9 of PostgreSQL while jobs run → it (and the
 * workers, which exit without their database) is restarted and the jobs complete with the same text; kill -9 of the
 * submitter → restarted, the API is back;
 * kill -9 of the launcher → no process of the stack is left and no port is held; {@code up} again on the same data
 * directory serves jobs, and Ctrl-C stops it with nothing left. Needs the packaged apps ({@code mvn verify}).
 */
class SupervisedUpIT {

    static final Path HOME = Path.of(System.getProperty("bunshin.it.home", "..")).toAbsolutePath().normalize();
    static final String PROMPT = "Once upon a time";
    static final int LONG = 200;

    @Test
    void killedChildrenAreRestartedJobsCompleteAndTheLaunchersDeathLeavesNothing() throws Exception {
        Path model = TestModels.stories260K();
        // Under target/: as root, PostgreSQL runs as another user, who must be able to reach the data dir.
        Path dataDir = Path.of("target/supervised-up-it").toAbsolutePath();
        UpProcess.deleteTree(dataDir);
        Map<String, Integer> ports = new LinkedHashMap<>();
        for (String name : List.of("api", "scheduler", "kafka", "postgres")) {
            ports.put(name, quietPort());
        }
        List<String> args = List.of("--model", model.toString(), "--workers", "2", "--threads", "1",
                "--port", ports.get("api").toString(), "--scheduler-port", ports.get("scheduler").toString(),
                "--kafka-port", ports.get("kafka").toString(), "--db-port", ports.get("postgres").toString(),
                "--data-dir", dataDir.toString());
        ApiClient api = new ApiClient("http://127.0.0.1:" + ports.get("api"));

        UpProcess up = UpProcess.start(HOME, dataDir.resolve("up-1.out"), "dev.bunshin.launcher.Up", args);
        String reference;
        try {
            up.await("Bunshin is up", 1, Duration.ofSeconds(600));
            String undisturbed = api.awaitEnd(api.submit(PROMPT, LONG), Duration.ofSeconds(180));
            assertEquals("completed", ApiClient.status(undisturbed), undisturbed);
            reference = ApiClient.text(undisturbed);

            // kill -9 of the tail worker while jobs run.
            List<Long> running = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                running.add(api.submit(PROMPT, LONG));
            }
            awaitFirstToken(api, running.getFirst());
            ProcessHandle worker2 = up.child("bunshin.worker.id=worker-2");
            UpProcess.kill9(worker2.pid());
            long killedAt = System.nanoTime();
            Map<Long, Integer> tokensAtKill = new LinkedHashMap<>();
            for (long id : running) {
                String body = api.job(id);
                if (!ApiClient.ended(body)) {
                    tokensAtKill.put(id, ApiClient.tokenCount(body));
                }
            }
            List<Long> inFlight = List.copyOf(tokensAtKill.keySet());
            System.out.println("SupervisedUpIT: jobs still running when worker-2 was killed: " + inFlight
                    + " of " + running);
            if (!inFlight.isEmpty()) {
                double seconds = secondsToNextToken(api, tokensAtKill, killedAt);
                System.out.printf(java.util.Locale.ROOT, "SupervisedUpIT: first token of a running job after"
                        + " worker-2's kill -9: %.1f s (the scheduler's heartbeat timeout is 10 s of it)%n", seconds);
            }
            up.await("worker-2 is back", 1, Duration.ofSeconds(180));
            assertNotEquals(worker2.pid(), up.child("bunshin.worker.id=worker-2").pid());
            long after = api.submit(PROMPT, LONG);
            assertCompletedWith(reference, api.awaitEnd(after, Duration.ofSeconds(180)), "a job submitted after");
            for (long id : running) {
                assertCompletedWith(reference, api.awaitEnd(id, Duration.ofSeconds(180)),
                        "job " + id + (inFlight.contains(id) ? ", running when its worker was killed," : ""));
            }

            // kill -9 of PostgreSQL while jobs run: it is restarted on its data directory and port. Today the
            // workers exit when the database goes (their plan check treats an SQL error as fatal): the
            // supervisor restarts them too, and the jobs go on from their stored tokens.
            List<Long> duringOutage = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                duringOutage.add(api.submit(PROMPT, LONG));
            }
            awaitFirstToken(api, duringOutage.getFirst());
            UpProcess.kill9(up.child("postgres/pgdata").pid());
            long outageAt = System.nanoTime();
            up.await("postgres is back", 1, Duration.ofSeconds(180));
            for (long id : duringOutage) {
                assertCompletedWith(reference, api.awaitEnd(id, Duration.ofSeconds(240)),
                        "job " + id + ", running when PostgreSQL was killed,");
            }
            System.out.printf(java.util.Locale.ROOT, "SupervisedUpIT: PostgreSQL killed with %d jobs running: all"
                    + " completed %.1f s later%n", duringOutage.size(), (System.nanoTime() - outageAt) / 1e9);

            // kill -9 of the submitter: restarted, the API is back.
            ProcessHandle submitter = up.child("submitter/target/quarkus-app");
            UpProcess.kill9(submitter.pid());
            up.await("submitter is back", 1, Duration.ofSeconds(180));
            assertTrue(api.answers());
            assertCompletedWith(reference, api.awaitEnd(api.submit(PROMPT, LONG), Duration.ofSeconds(180)),
                    "a job submitted after the submitter's restart");

            // kill -9 of the launcher: everything it started dies with it.
            up.killAndAssertNothingLeft(6, ports); // kafka, postgres, scheduler, submitter, 2 workers
        } finally {
            up.process.destroyForcibly();
            System.out.println("SupervisedUpIT: first up's output:\n" + up.text());
        }

        // up again on the same data directory: it serves jobs, and Ctrl-C stops everything.
        UpProcess again = UpProcess.start(HOME, dataDir.resolve("up-2.out"), "dev.bunshin.launcher.Up", args);
        try {
            again.await("Bunshin is up", 1, Duration.ofSeconds(600));
            assertCompletedWith(reference, api.awaitEnd(api.submit(PROMPT, LONG), Duration.ofSeconds(180)),
                    "a job after up restarted on the same data directory");
            List<ProcessHandle> stack = again.process.descendants().toList();
            new ProcessBuilder("kill", "-INT", Long.toString(again.process.pid())).start().waitFor();
            assertTrue(again.process.waitFor(120, TimeUnit.SECONDS), "up stops on SIGINT:\n" + again.text());
            UpProcess.assertNothingLeft(stack, ports);
        } finally {
            again.process.destroyForcibly();
        }
    }

    private static void assertCompletedWith(String reference, String body, String what) {
        assertEquals("completed", ApiClient.status(body), what + ": " + body);
        assertEquals(reference, ApiClient.text(body), what + " has the undisturbed greedy text");
    }

    /** Seconds from {@code since} until one of the jobs has more tokens than it had then. */
    private static double secondsToNextToken(ApiClient api, Map<Long, Integer> tokensThen, long since)
            throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        while (System.nanoTime() < deadline) {
            for (Map.Entry<Long, Integer> job : tokensThen.entrySet()) {
                if (ApiClient.tokenCount(api.job(job.getKey())) > job.getValue()) {
                    return (System.nanoTime() - since) / 1e9;
                }
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no job of " + tokensThen.keySet() + " got a token within 180 s of the kill");
    }

    private static void awaitFirstToken(ApiClient api, long id) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline) {
            String body = api.job(id);
            if (ApiClient.tokenCount(body) > 0 || ApiClient.ended(body)) {
                return;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("job " + id + " produced no token within 120 s");
    }

    /** A free port below the ephemeral range, so that no child's own free-port pick takes it after we release it. */
    private static int quietPort() throws IOException {
        java.util.Random random = new java.util.Random();
        while (true) {
            int port = 20000 + random.nextInt(12000);
            try (ServerSocket s = new ServerSocket(port, 1, java.net.InetAddress.getLoopbackAddress())) {
                return port;
            } catch (IOException taken) {
                // try another
            }
        }
    }
}
