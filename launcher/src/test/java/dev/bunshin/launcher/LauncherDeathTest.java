package dev.bunshin.launcher;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A SIGKILL of the JVM that started children runs no shutdown hook: the children (PostgreSQL, which as root runs
 * as another user, and a plain command started from a thread that has ended since) die with it all the same.
 */
class LauncherDeathTest {

    /** Run in a child JVM: starts PostgreSQL and, from a short-lived thread, a sleep; prints their pids; waits. */
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        LocalPostgres postgres = LocalPostgres.start(dir.resolve("postgres"));
        List<ChildProcess> sleeper = new ArrayList<>();
        Thread starter = new Thread(() -> sleeper.add(ChildProcess.start("sleeper", List.of("sleep", "300"), dir,
                Map.of(), dir.resolve("sleeper.log"), "TERM", Duration.ofSeconds(5))));
        starter.start();
        starter.join();
        System.out.println("PORT " + postgres.port());
        System.out.println("PIDS " + postgres.pids() + " " + sleeper.getFirst().pid());
        Thread.sleep(Long.MAX_VALUE);
    }

    @Test
    void childrenDieWhenTheirLauncherIsKilled() throws Exception {
        assertTrue(ChildProcess.pdeathsigSupported(), "this machine's setpriv lacks --pdeathsig (util-linux < 2.33)");
        Path dir = TestDirs.fresh("launcher-death");
        UpProcess launcher = UpProcess.start(dir, dir.resolve("launcher.out"), LauncherDeathTest.class.getName(),
                List.of(dir.toString()));
        try {
            launcher.await("PIDS ", 1, Duration.ofSeconds(120));
            List<ProcessHandle> children = launcher.process.descendants().toList();
            assertTrue(children.size() >= 3, "postgres (and its helpers) and the sleeper: " + children);
            String text = launcher.text();
            int port = Integer.parseInt(text.substring(text.indexOf("PORT ") + 5).lines().findFirst().orElseThrow());
            String pids = text.substring(text.indexOf("PIDS ")).lines().findFirst().orElseThrow();
            long sleeper = Long.parseLong(pids.substring(pids.lastIndexOf(' ') + 1));
            Thread.sleep(1000);
            assertTrue(ProcessHandle.of(sleeper).map(ProcessHandle::isAlive).orElse(false),
                    "the sleeper outlives the thread that asked for it (children are forked by one long-lived thread)");
            UpProcess.kill9(launcher.process.pid());
            assertTrue(launcher.process.waitFor(10, TimeUnit.SECONDS));
            UpProcess.assertNothingLeft(children, Map.of("postgres", port));
        } finally {
            launcher.process.destroyForcibly();
        }
    }
}
