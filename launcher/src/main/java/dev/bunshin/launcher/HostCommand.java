package dev.bunshin.launcher;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs one short system tool ({@code ip}, {@code tc}, {@code taskset}) to completion and reports its output. */
final class HostCommand {
    private HostCommand() {}

    /** What a finished command gave. */
    record Result(int exit, String output) {
        boolean ok() {
            return exit == 0;
        }
    }

    /** Runs {@code command}; a missing program or a timeout gives exit 127 / 124 with the reason as output. */
    static Result run(List<String> command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Result(124, String.join(" ", command) + ": timed out after 30 s");
            }
            return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8).strip());
        } catch (IOException e) {
            return new Result(127, String.join(" ", command) + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(130, String.join(" ", command) + ": interrupted");
        }
    }

    /** Runs {@code command} and throws, with its output, unless it exits 0. */
    static String check(List<String> command) {
        Result r = run(command);
        if (!r.ok()) {
            throw new IllegalStateException("`" + String.join(" ", command) + "` failed (exit " + r.exit() + "): " + r.output());
        }
        return r.output();
    }

    /** Whether {@code name} is an executable in one of the usual system directories. */
    static boolean available(String name) {
        for (String dir : List.of("/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/bin", "/usr/local/sbin")) {
            if (Files.isExecutable(Path.of(dir, name))) {
                return true;
            }
        }
        return false;
    }

    /** Whether this process runs as root (uid 0), read from {@code /proc/self/status}. */
    static boolean isRoot() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    return line.split("\\s+")[1].equals("0");
                }
            }
        } catch (IOException | RuntimeException ignored) {
            // not Linux, or no /proc
        }
        return false;
    }
}
