package dev.bunshin.launcher;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The supervisor with real processes (a shell that sleeps, or one that exits at once). */
class SupervisorTest {

    private static final RestartPolicy FAST = new RestartPolicy(2, Duration.ofMinutes(1), Duration.ofMillis(100),
            Duration.ofMillis(400));

    @Test
    void aChildKilledWithSigkillIsRestartedAndTheReasonAndLogTailAreSaid() throws Exception {
        Path dir = TestDirs.fresh("supervisor-restart");
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        AtomicInteger starts = new AtomicInteger();
        Supplier<ChildProcess> sleeper = () -> ChildProcess.start("sleeper", List.of("sh", "-c",
                "printf 'alive %s\\n' " + starts.incrementAndGet() + "; exec sleep 300"), dir, Map.of(),
                dir.resolve("sleeper.log"), "TERM", Duration.ofSeconds(5));
        try (Supervisor supervisor = new Supervisor(FAST, new PrintStream(console, true, StandardCharsets.UTF_8),
                dir.resolve("supervisor.log"))) {
            ChildProcess first = sleeper.get();
            supervisor.add("sleeper", first, sleeper);
            awaitLog(dir.resolve("sleeper.log"), "alive 1"); // printed, not in the logged command line
            assertNull(supervisor.check());

            new ProcessBuilder("kill", "-9", Long.toString(first.pid())).start().waitFor();
            ChildProcess second = awaitRestart(supervisor, "sleeper", first);
            assertTrue(second.isAlive());
            assertNotEquals(first.pid(), second.pid());
            assertEquals(1, supervisor.recentRestarts("sleeper"));
            String said = console.toString(StandardCharsets.UTF_8);
            assertTrue(said.contains("sleeper (pid " + first.pid() + ") died: killed by SIGKILL (exit code 137)"), said);
            assertTrue(said.contains("    | alive 1"), "the log's tail is shown: " + said);
            assertTrue(said.contains("sleeper is back (pid " + second.pid() + ","), said);
            assertTrue(Files.readString(dir.resolve("supervisor.log")).contains("died: killed by SIGKILL"));
            assertTrue(Files.readString(dir.resolve("sleeper.log")).contains("exited: killed by SIGKILL"),
                    "the death is marked in the child's own log");
        }
    }

    @Test
    void aChildThatKeepsDyingMakesItGiveUpNamingItAndWhy() throws Exception {
        Path dir = TestDirs.fresh("supervisor-give-up");
        Supplier<ChildProcess> crasher = () -> ChildProcess.start("crasher", List.of("sh", "-c",
                "echo cannot open the model; exit 3"), dir, Map.of(), dir.resolve("crasher.log"), "TERM",
                Duration.ofSeconds(5));
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        try (Supervisor supervisor = new Supervisor(FAST, new PrintStream(console, true, StandardCharsets.UTF_8),
                dir.resolve("supervisor.log"))) {
            supervisor.add("crasher", crasher.get(), crasher);
            String giveUp = null;
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (giveUp == null && System.nanoTime() < deadline) {
                Thread.sleep(50);
                giveUp = supervisor.check();
            }
            assertNotNull(giveUp, "gave up within 30 s: " + console);
            assertTrue(giveUp.startsWith("crasher keeps dying: exit code 3, after 2 restarts (the limit is 2 restarts"
                    + " per 1 min)"), giveUp);
            assertTrue(giveUp.contains("cannot open the model"), giveUp);
            assertTrue(Files.readString(dir.resolve("supervisor.log")).contains("GIVING UP: crasher keeps dying"));
        }
    }

    @Test
    void withRestartsOffTheFirstDeathGivesUp() throws Exception {
        Path dir = TestDirs.fresh("supervisor-off");
        Supplier<ChildProcess> once = () -> ChildProcess.start("once", List.of("sh", "-c", "exit 1"), dir,
                Map.of(), dir.resolve("once.log"), "TERM", Duration.ofSeconds(5));
        try (Supervisor supervisor = new Supervisor(RestartPolicy.withLimit(0), new PrintStream(
                new ByteArrayOutputStream(), true, StandardCharsets.UTF_8), dir.resolve("supervisor.log"))) {
            ChildProcess child = once.get();
            supervisor.add("once", child, once);
            while (child.isAlive()) {
                Thread.sleep(20);
            }
            String giveUp = supervisor.check();
            assertNotNull(giveUp);
            assertTrue(giveUp.startsWith("once died: exit code 1 (restarts are off)"), giveUp);
        }
    }

    @Test
    void exitCodesAbove128ReadAsSignals() {
        assertEquals("killed by SIGKILL (exit code 137)", ChildProcess.exitReason(137));
        assertEquals("killed by SIGTERM (exit code 143)", ChildProcess.exitReason(143));
        assertEquals("exit code 1", ChildProcess.exitReason(1));
    }

    private static ChildProcess awaitRestart(Supervisor supervisor, String name, ChildProcess old) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            assertNull(supervisor.check());
            ChildProcess now = supervisor.current(name);
            if (now != old && now.isAlive()) {
                return now;
            }
            Thread.sleep(50);
        }
        throw new AssertionError(name + " was not restarted within 30 s");
    }

    private static void awaitLog(Path log, String text) throws Exception {
        for (int i = 0; i < 100; i++) {
            if (Files.exists(log) && Files.readString(log).contains(text)) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no \"" + text + "\" in " + log);
    }
}
