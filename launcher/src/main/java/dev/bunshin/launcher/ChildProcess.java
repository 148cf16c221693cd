package dev.bunshin.launcher;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * A process this JVM started, whose stdout and stderr go to a log file, and which dies with this JVM.
 *
 * <p>Every live child is registered with one shutdown hook, so that Ctrl-C, {@code System.exit} or a normal end
 * stops it (and its descendants: {@code runuser}, {@code setpriv} or a shell may sit between us and the real
 * server). Only a SIGKILL of this JVM can leave orphans; nothing in Java can prevent that.
 */
final class ChildProcess implements AutoCloseable {

    private static final Set<ChildProcess> LIVE = ConcurrentHashMap.newKeySet();
    private static final java.util.concurrent.atomic.AtomicLong STARTED = new java.util.concurrent.atomic.AtomicLong();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(ChildProcess::stopAllOnExit, "bunshin-children-reaper"));
    }

    private final String name;
    private final Process process;
    private final Path log;
    private final Duration grace;
    private final String stopSignal;
    private final long sequence = STARTED.incrementAndGet();

    private ChildProcess(String name, Process process, Path log, Duration grace, String stopSignal) {
        this.name = name;
        this.process = process;
        this.log = log;
        this.grace = grace;
        this.stopSignal = stopSignal;
    }

    /**
     * Starts {@code command}, appending its output to {@code log}.
     *
     * @param stopSignal the signal that asks it to stop cleanly ("TERM", or "INT" for PostgreSQL's fast shutdown)
     * @param grace how long a clean stop may take before the process tree is killed
     */
    static ChildProcess start(String name, List<String> command, Path workDir, Map<String, String> env, Path log,
                              String stopSignal, Duration grace) {
        Objects.requireNonNull(command, "command == null");
        try {
            Files.createDirectories(log.toAbsolutePath().getParent());
            Files.writeString(log, "\n=== " + java.time.Instant.now() + " " + describe(command) + "\n",
                    StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.CREATE,
                    java.nio.file.StandardOpenOption.APPEND);
            ProcessBuilder builder = new ProcessBuilder(inOwnSession(command))
                    .directory(workDir.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            builder.environment().putAll(env);
            ChildProcess child = new ChildProcess(name, builder.start(), log, grace, stopSignal);
            LIVE.add(child);
            return child;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + name + ": " + String.join(" ", command), e);
        }
    }

    /**
     * Runs the command in a session of its own (setsid execs it: same pid). Ctrl-C in a terminal signals the whole
     * foreground process group at once; children outside it are left to our shutdown hook, which stops the apps
     * before the broker and the database they are still talking to.
     */
    private static List<String> inOwnSession(List<String> command) {
        for (String setsid : List.of("/usr/bin/setsid", "/bin/setsid")) {
            if (Files.isExecutable(Path.of(setsid))) {
                List<String> wrapped = new ArrayList<>(command.size() + 1);
                wrapped.add(setsid);
                wrapped.addAll(command);
                return wrapped;
            }
        }
        return command;
    }

    /** The command line for the log, with a long classpath shortened to its entry count. */
    static String describe(List<String> command) {
        List<String> shown = new ArrayList<>(command);
        for (int i = 1; i < shown.size(); i++) {
            if (shown.get(i - 1).equals("-cp") && shown.get(i).length() > 200) {
                shown.set(i, "(" + shown.get(i).split(java.io.File.pathSeparator).length + " jars)");
            }
        }
        return String.join(" ", shown);
    }

    /** Runs {@code command} to completion (for one-shot tools: initdb, kafka-storage format), failing loudly. */
    static void runToCompletion(String name, List<String> command, Path workDir, Path log, Duration timeout) {
        ChildProcess child = start(name, command, workDir, Map.of(), log, "TERM", Duration.ofSeconds(5));
        try {
            if (!child.process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                child.close();
                throw new IllegalStateException(name + " did not finish within " + timeout + "; log " + log
                        + ":\n" + child.tail(40));
            }
            int exit = child.process.exitValue();
            LIVE.remove(child);
            if (exit != 0) {
                throw new IllegalStateException(name + " failed with exit code " + exit + "; log " + log + ":\n"
                        + child.tail(40));
            }
        } catch (InterruptedException e) {
            child.close();
            Thread.currentThread().interrupt();
            throw new IllegalStateException(name + " interrupted", e);
        }
    }

    String name() {
        return name;
    }

    long pid() {
        return process.pid();
    }

    Path log() {
        return log;
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** The pids of this process and all its descendants now (the real server may be a grandchild). */
    List<Long> pids() {
        List<Long> pids = new ArrayList<>();
        pids.add(process.pid());
        process.descendants().forEach(h -> pids.add(h.pid()));
        return pids;
    }

    /** Throws with the tail of the log if the process has exited: used while waiting for it to become ready. */
    void checkAlive() {
        if (!process.isAlive()) {
            throw new IllegalStateException(name + " exited with code " + process.exitValue() + "; log " + log
                    + ":\n" + tail(40));
        }
    }

    /** The last {@code lines} lines of the log, for error messages. */
    String tail(int lines) {
        try (var file = new java.io.RandomAccessFile(log.toFile(), "r")) {
            long from = Math.max(0, file.length() - 64 * 1024);
            byte[] bytes = new byte[(int) (file.length() - from)];
            file.seek(from);
            file.readFully(bytes);
            List<String> all = new String(bytes, StandardCharsets.UTF_8).lines().toList();
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(cannot read " + log + ": " + e + ")";
        }
    }

    /** Asks the tree to stop with the stop signal, waits the grace period, then kills what is left. */
    @Override
    public synchronized void close() {
        // Synchronized: the shutdown hook and the owner may both close it; the second waits for the first.
        LIVE.remove(this);
        List<ProcessHandle> tree = new ArrayList<>();
        process.descendants().forEach(tree::add);
        tree.add(process.toHandle());
        if (process.isAlive()) {
            signal(process.pid(), stopSignal);
            // A wrapper (runuser) may not forward the signal: tell the leaves too.
            for (ProcessHandle h : tree) {
                if (h.pid() != process.pid() && h.isAlive()) {
                    signal(h.pid(), stopSignal);
                }
            }
        }
        long deadline = System.nanoTime() + grace.toNanos();
        for (ProcessHandle h : tree) {
            long left = deadline - System.nanoTime();
            if (left > 0) {
                try {
                    h.onExit().get(left, TimeUnit.NANOSECONDS);
                } catch (Exception ignored) {
                    // killed below
                }
            }
        }
        for (ProcessHandle h : tree) {
            if (h.isAlive()) {
                h.destroyForcibly();
            }
        }
        for (ProcessHandle h : tree) {
            try {
                h.onExit().get(5, TimeUnit.SECONDS);
            } catch (Exception ignored) {
                // a process root cannot kill is beyond help; the caller's pid check will report it
            }
        }
    }

    private static void signal(long pid, String signal) {
        if ("TERM".equals(signal)) {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroy);
            return;
        }
        // Java can only send TERM and KILL; other signals go through kill(1).
        try {
            new ProcessBuilder("kill", "-" + signal, Long.toString(pid))
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start().waitFor(5, TimeUnit.SECONDS);
        } catch (IOException e) {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroy);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void stopAllOnExit() {
        // Newest first: apps before the broker and the database they use.
        List<ChildProcess> all = new ArrayList<>(LIVE);
        all.sort((a, b) -> Long.compare(b.sequence, a.sequence));
        for (ChildProcess child : all) {
            try {
                child.close();
            } catch (RuntimeException ignored) {
                // keep stopping the others
            }
        }
    }
}
