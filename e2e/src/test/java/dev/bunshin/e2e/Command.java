package dev.bunshin.e2e;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A command a test runs to its end (npm, node, a script): its output, echoed, or a failed assertion quoting it. */
final class Command {

    private Command() {}

    static String run(List<String> command, Path dir, Map<String, String> env, long timeoutSeconds) throws Exception {
        Path log = Files.createTempFile("e2e-command", ".log");
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        pb.environment().putAll(env);
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new IllegalStateException(command.getFirst() + " is needed for this test: " + e.getMessage(), e);
        }
        boolean ended = p.waitFor(timeoutSeconds, TimeUnit.SECONDS);
        if (!ended) {
            p.destroyForcibly();
        }
        String out = Files.readString(log, StandardCharsets.UTF_8);
        Files.deleteIfExists(log);
        System.out.println("--- " + String.join(" ", command) + "\n" + out);
        assertTrue(ended, String.join(" ", command) + " timed out:\n" + out);
        assertEquals(0, p.exitValue(), String.join(" ", command) + " failed:\n" + out);
        return out;
    }
}
