package dev.bunshin.launcher;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code ./bunshin up} in a JVM of its own, with real Kafka and PostgreSQL and stand-in apps ({@link FakeApp}):
 * kill -9 of a worker, of PostgreSQL and of Kafka → each is restarted (the database and the broker on the same
 * data directory and port) while the others keep their pids; kill -9 of the launcher → no process of the stack is
 * left and no port is held; a second {@code up} on the same data directory starts; under it, a {@code worker --join}
 * whose worker is killed restarts it, and kill -9 of that command leaves no worker; Ctrl-C (SIGINT) stops the
 * second {@code up} with nothing left.
 */
class UpSupervisionTest {

    @Test
    void deadChildrenAreRestartedAndTheLaunchersDeathLeavesNothingBehind() throws Exception {
        Path dir = TestDirs.fresh("up-supervision");
        Path home = FakeApp.checkout(dir);
        Path model = Files.writeString(dir.resolve("tiny-model.gguf"), "not read by the launcher");
        Map<String, Integer> ports = new LinkedHashMap<>();
        for (String name : List.of("api", "scheduler", "kafka", "postgres")) {
            ports.put(name, Ports.free());
        }
        List<String> args = List.of("--model", model.toString(), "--workers", "2", "--threads", "1",
                "--port", ports.get("api").toString(), "--scheduler-port", ports.get("scheduler").toString(),
                "--kafka-port", ports.get("kafka").toString(), "--db-port", ports.get("postgres").toString(),
                "--data-dir", dir.resolve("data").toString());

        UpProcess up = UpProcess.start(home, dir.resolve("up-1.out"), Up.class.getName(), args);
        try {
            up.await("Bunshin is up", 1, Duration.ofSeconds(240));
            ProcessHandle worker1 = up.child("bunshin.worker.id=worker-1");
            ProcessHandle submitter = up.child("submitter/target/quarkus-app");

            ProcessHandle worker2 = up.child("bunshin.worker.id=worker-2");
            UpProcess.kill9(worker2.pid());
            up.await("worker-2 is back", 1, Duration.ofSeconds(120));
            String out = up.text();
            assertTrue(out.contains("worker-2 (pid " + worker2.pid() + ") died: killed by SIGKILL (exit code 137);"
                    + " restarting it in 1 s (restart 1, at most 5 restarts per 10 min)"), out);
            assertNotEquals(worker2.pid(), up.child("bunshin.worker.id=worker-2").pid());

            ProcessHandle postgres = up.child("postgres/pgdata");
            UpProcess.kill9(postgres.pid());
            up.await("postgres is back", 1, Duration.ofSeconds(120));
            try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + ports.get("postgres")
                    + "/bunshin", LocalPostgres.USER, LocalPostgres.PASSWORD)) {
                assertTrue(c.isValid(5), "PostgreSQL is back on the same port with the same database");
            }

            ProcessHandle kafka = up.child("kafka/log4j2.properties");
            UpProcess.kill9(kafka.pid());
            up.await("kafka is back", 1, Duration.ofSeconds(180));
            assertTrue(Ports.isOpen("127.0.0.1", ports.get("kafka")), "Kafka is back on the same port");

            assertTrue(worker1.isAlive() && submitter.isAlive(), "the others kept running:\n" + up.text());
            assertTrue(up.process.isAlive(), up.text());
            assertTrue(Files.readString(dir.resolve("data/logs/supervisor.log")).contains("kafka is back"));

            // kafka, postgres (and its backends), scheduler, submitter, 2 workers
            up.killAndAssertNothingLeft(6, ports);
        } finally {
            up.process.destroyForcibly();
        }

        // The next up on the same data directory starts cleanly, and Ctrl-C stops all of it.
        UpProcess again = UpProcess.start(home, dir.resolve("up-2.out"), Up.class.getName(), args);
        try {
            again.await("Bunshin is up", 1, Duration.ofSeconds(240));

            // worker --join: its worker is restarted too, and dies with the command.
            UpProcess join = UpProcess.start(home, dir.resolve("worker.out"), Worker.class.getName(), List.of(
                    "--join", "127.0.0.1:" + ports.get("kafka"), "--database", "jdbc:postgresql://127.0.0.1:"
                            + ports.get("postgres") + "/bunshin", "--model", model.toString(), "--id", "joined-1",
                    "--memory", "1G", "--threads", "1", "--data-dir", dir.resolve("joiner").toString()),
                    Map.of(WorkerOptions.PASSWORD_ENV, LocalPostgres.PASSWORD));
            try {
                join.await("Worker joined-1 is up", 1, Duration.ofSeconds(120));
                ProcessHandle joined = join.child("bunshin.worker.id=joined-1");
                UpProcess.kill9(joined.pid());
                join.await("joined-1 is back", 1, Duration.ofSeconds(120));
                List<ProcessHandle> worker = join.process.descendants().toList();
                assertEquals(1, worker.size(), "one worker JVM: " + worker);
                UpProcess.kill9(join.process.pid());
                UpProcess.assertNothingLeft(worker, Map.of());
            } finally {
                join.process.destroyForcibly();
            }
            List<ProcessHandle> second = again.process.descendants().toList();
            new ProcessBuilder("kill", "-INT", Long.toString(again.process.pid())).start().waitFor();
            assertTrue(again.process.waitFor(120, TimeUnit.SECONDS), "up stops on SIGINT:\n" + again.text());
            assertTrue(again.text().contains("Stopped."), again.text());
            UpProcess.assertNothingLeft(second, ports);
        } finally {
            again.process.destroyForcibly();
        }
    }
}
