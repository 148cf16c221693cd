package dev.bunshin.launcher;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** {@code ./bunshin up} (or {@code worker}) in a JVM of its own, as a user runs it: its output in a file. */
public final class UpProcess {

    public final Process process;
    public final Path output;

    private UpProcess(Process process, Path output) {
        this.process = process;
        this.output = output;
    }

    /** Starts {@code mainClass args} with this test's classpath and {@code -Dbunshin.home=home}. */
    public static UpProcess start(Path home, Path output, String mainClass, List<String> args) throws IOException {
        return start(home, output, mainClass, args, Map.of());
    }

    /** {@link #start(Path, Path, String, List)} with {@code env} added to its environment. */
    public static UpProcess start(Path home, Path output, String mainClass, List<String> args, Map<String, String> env)
            throws IOException {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "-Dbunshin.home=" + home, mainClass));
        command.addAll(args);
        Files.createDirectories(output.toAbsolutePath().getParent());
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile());
        builder.environment().putAll(env);
        Process p = builder.start();
        return new UpProcess(p, output);
    }

    public String text() throws IOException {
        return Files.exists(output) ? Files.readString(output, StandardCharsets.UTF_8) : "";
    }

    /** Waits until the output holds {@code line} {@code times} times; fails with the output if it exits first. */
    public void await(String line, int times, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            String text = text();
            if (count(text, line) >= times) {
                return;
            }
            if (!process.isAlive()) {
                throw new AssertionError("the launcher exited " + process.exitValue() + " before \"" + line
                        + "\":\n" + text);
            }
            Thread.sleep(200);
        }
        throw new AssertionError("no \"" + line + "\" (x" + times + ") within " + timeout + ":\n" + text());
    }

    /** The descendant whose command line contains {@code marker}. */
    public ProcessHandle child(String marker) {
        Optional<ProcessHandle> found = process.descendants()
                .filter(h -> h.info().commandLine().orElse("").contains(marker)).findFirst();
        return found.orElseThrow(() -> new AssertionError("no child with \"" + marker + "\" in its command line"));
    }

    public static int count(String text, String line) {
        int n = 0;
        for (int i = text.indexOf(line); i >= 0; i = text.indexOf(line, i + 1)) {
            n++;
        }
        return n;
    }

    public static void kill9(long pid) throws Exception {
        new ProcessBuilder("kill", "-9", Long.toString(pid)).start().waitFor();
    }

    /**
     * kill -9 of the launcher itself; then checks that every process it had started (at least {@code atLeast})
     * is gone and no port of {@code ports} is held.
     */
    public void killAndAssertNothingLeft(int atLeast, Map<String, Integer> ports) throws Exception {
        List<ProcessHandle> children = process.descendants().toList();
        org.junit.jupiter.api.Assertions.assertTrue(children.size() >= atLeast,
                "at least " + atLeast + " processes under the launcher: " + children);
        kill9(process.pid());
        org.junit.jupiter.api.Assertions.assertTrue(process.waitFor(10, TimeUnit.SECONDS), "the launcher is gone");
        assertNothingLeft(children, ports);
    }

    /** Deletes {@code dir} and everything in it, if it exists. */
    public static void deleteTree(Path dir) throws IOException {
        PostgresBinaries.deleteTree(dir);
    }

    /**
     * Waits up to 30 s for every one of {@code processes} to be gone, then checks that no port of {@code ports} is
     * held on 127.0.0.1; fails naming what is left.
     */
    public static void assertNothingLeft(List<ProcessHandle> processes, Map<String, Integer> ports)
            throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        List<ProcessHandle> alive = processes;
        while (System.nanoTime() < deadline) {
            alive = processes.stream().filter(ProcessHandle::isAlive).toList();
            if (alive.isEmpty()) {
                break;
            }
            Thread.sleep(200);
        }
        assertEquals(List.of(), alive.stream().map(h -> h.pid() + " " + h.info().commandLine().orElse("?")).toList(),
                "processes left running");
        for (Map.Entry<String, Integer> port : ports.entrySet()) {
            assertFalse(Ports.isOpen("127.0.0.1", port.getValue()), port.getKey() + " port " + port.getValue()
                    + " still held");
        }
    }
}
