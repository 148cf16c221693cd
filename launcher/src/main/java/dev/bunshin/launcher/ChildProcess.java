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
 * server). A SIGKILL of this JVM runs no hook: for that, every child is started through
 * {@code setpriv --pdeathsig KILL}, so the kernel kills it when this JVM dies (see {@link #dyingWithUs}).
 */
final class ChildProcess implements AutoCloseable {

    private static final Set<ChildProcess> LIVE = ConcurrentHashMap.newKeySet();
    private static final java.util.concurrent.atomic.AtomicLong STARTED = new java.util.concurrent.atomic.AtomicLong();
    /**
     * The one thread that forks every child. The kernel sends a parent-death signal when the parent <em>thread</em>
     * ends, not the process: a child forked from a short-lived thread (a restart, a test) would be killed with that
     * thread. This one lives as long as the JVM.
     */
    private static final java.util.concurrent.ExecutorService SPAWNER =
            java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "bunshin-spawner");
                t.setDaemon(true);
                return t;
            });
    private static volatile Boolean pdeathsigSupported;

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(ChildProcess::stopAllOnExit, "bunshin-children-reaper"));
    }

    private final String name;
    private final Process process;
    private final Path log;
    private final Duration grace;
    private final String stopSignal;
    private final long sequence = STARTED.incrementAndGet();
    /** Its process tree when last looked at: what to clean up when the root dies and leaves descendants. */
    private volatile List<ProcessHandle> lastTree = List.of();

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
            ProcessBuilder builder = new ProcessBuilder(inOwnSession(dyingWithUs(command)))
                    .directory(workDir.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            builder.environment().putAll(env);
            ChildProcess child = new ChildProcess(name, spawn(builder), log, grace, stopSignal);
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

    /** {@code builder.start()} on the {@link #SPAWNER} thread. */
    private static Process spawn(ProcessBuilder builder) throws IOException {
        try {
            return SPAWNER.submit(builder::start).get();
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw new IllegalStateException("cannot start " + builder.command(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while starting " + builder.command(), e);
        }
    }

    /**
     * The command run through {@code setpriv --pdeathsig KILL}: the kernel sends the child SIGKILL when this JVM
     * dies, however it dies (a SIGKILL runs no shutdown hook). setpriv execs the command (same pid). A command that
     * already starts with setpriv (PostgreSQL as root, which changes user) gets the option in that same setpriv:
     * a change of user clears the parent-death signal, and setpriv sets it after the change. Without a setpriv
     * that knows the option (util-linux before 2.33), the command runs as is and only the shutdown hook stops it.
     */
    static List<String> dyingWithUs(List<String> command) {
        if (command.isEmpty() || !pdeathsigSupported()) {
            return command;
        }
        List<String> wrapped = new ArrayList<>(command.size() + 4);
        if (Path.of(command.get(0)).getFileName().toString().equals("setpriv")) {
            wrapped.add(command.get(0));
            wrapped.addAll(List.of("--pdeathsig", "KILL"));
            wrapped.addAll(command.subList(1, command.size()));
        } else {
            wrapped.addAll(List.of(setpriv(), "--pdeathsig", "KILL", "--"));
            wrapped.addAll(command);
        }
        return wrapped;
    }

    /** Whether this machine's setpriv has {@code --pdeathsig} (asked once). */
    static boolean pdeathsigSupported() {
        Boolean known = pdeathsigSupported;
        if (known == null) {
            known = false;
            try {
                Process help = new ProcessBuilder(setpriv(), "--help").redirectErrorStream(true).start();
                String text = new String(help.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                known = help.waitFor(10, TimeUnit.SECONDS) && text.contains("--pdeathsig");
            } catch (IOException e) {
                known = false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            pdeathsigSupported = known;
        }
        return known;
    }

    private static String setpriv() {
        for (String path : List.of("/usr/bin/setpriv", "/bin/setpriv")) {
            if (Files.isExecutable(Path.of(path))) {
                return path;
            }
        }
        return "setpriv";
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

    /** The exit code, or -1 while it runs. */
    int exitCode() {
        return process.isAlive() ? -1 : process.exitValue();
    }

    /**
     * Why it ended, for a person: {@code "exit code 1"}, or {@code "killed by SIGKILL (exit code 137)"} (Java
     * reports a death by signal N as 128 + N; a process that itself exits with such a code reads the same).
     */
    String exitReason() {
        return exitReason(exitCode());
    }

    static String exitReason(int code) {
        if (code > 128 && code < 128 + 32) {
            String[] names = {"", "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV",
                    "USR2", "PIPE", "ALRM", "TERM"};
            int signal = code - 128;
            String name = signal < names.length ? "SIG" + names[signal] : "signal " + signal;
            return "killed by " + name + " (exit code " + code + ")";
        }
        return "exit code " + code;
    }

    /** Notes its process tree now, so that {@link #reapLeftovers} knows the descendants once the root is gone. */
    void observeTree() {
        if (process.isAlive()) {
            List<ProcessHandle> tree = new ArrayList<>();
            tree.add(process.toHandle());
            process.descendants().forEach(tree::add);
            lastTree = List.copyOf(tree);
        }
    }

    /**
     * After the root died: waits up to {@code patience} for the descendants it was last seen with (PostgreSQL's
     * backends leave by themselves once their postmaster is gone) and kills those still there, so that a restart
     * finds the port and the data directory free. Returns how many had to be killed.
     */
    int reapLeftovers(Duration patience) {
        return awaitThenKill(lastTree.stream().filter(ProcessHandle::isAlive).toList(), patience);
    }

    /**
     * Waits up to {@code patience} for every process of {@code tree} to end, kills those still there and waits
     * (5 s at most) for them to go. Returns how many had to be killed.
     */
    private static int awaitThenKill(List<ProcessHandle> tree, Duration patience) {
        long deadline = System.nanoTime() + patience.toNanos();
        for (ProcessHandle h : tree) {
            long wait = deadline - System.nanoTime();
            if (wait > 0) {
                try {
                    h.onExit().get(wait, TimeUnit.NANOSECONDS);
                } catch (Exception ignored) {
                    // killed below
                }
            }
        }
        int killed = 0;
        for (ProcessHandle h : tree) {
            // A handle compares the start time too: a pid reused since is not touched.
            if (h.isAlive() && h.destroyForcibly()) {
                killed++;
            }
        }
        for (ProcessHandle h : tree) {
            try {
                h.onExit().get(5, TimeUnit.SECONDS);
            } catch (Exception ignored) {
                // a process root cannot kill is beyond help; the caller's checks report it
            }
        }
        return killed;
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
        for (ProcessHandle seen : lastTree) {
            if (seen.isAlive() && !tree.contains(seen)) {
                tree.add(seen); // left behind by a root that died on its own
            }
        }
        if (process.isAlive()) {
            signal(process.pid(), stopSignal);
            // A wrapper (runuser) may not forward the signal: tell the leaves too.
            for (ProcessHandle h : tree) {
                if (h.pid() != process.pid() && h.isAlive()) {
                    signal(h.pid(), stopSignal);
                }
            }
        }
        awaitThenKill(tree, grace);
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
