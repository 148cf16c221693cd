package dev.bunshin.launcher;

import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A JVM that exits without closing what it started leaves no PostgreSQL behind: the shutdown hook stops it. */
class ShutdownHookTest {

    /** Run in a child JVM: starts PostgreSQL, prints the server's pids, exits without close(). */
    public static void main(String[] args) {
        LocalPostgres postgres = LocalPostgres.start(Path.of(args[0]));
        System.out.println("PIDS " + postgres.pids());
        System.exit(0);
    }

    @Test
    void exitingJvmStopsItsChildren() throws Exception {
        Path dir = TestDirs.fresh("shutdown-hook");
        Process jvm = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), ShutdownHookTest.class.getName(),
                dir.resolve("postgres").toString())
                .redirectErrorStream(true).start();
        List<Long> pids = new ArrayList<>();
        StringBuilder output = new StringBuilder();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(jvm.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = out.readLine()) != null) {
                output.append(line).append('\n');
                if (line.startsWith("PIDS [")) {
                    for (String pid : line.substring(6, line.length() - 1).split(",\\s*")) {
                        pids.add(Long.parseLong(pid));
                    }
                }
            }
        }
        assertTrue(jvm.waitFor(60, TimeUnit.SECONDS), "child JVM did not exit:\n" + output);
        assertEquals(0, jvm.exitValue(), output.toString());
        assertFalse(pids.isEmpty(), "no pids printed:\n" + output);
        for (long pid : pids) {
            TestDirs.assertGone(pid);
        }
    }
}
