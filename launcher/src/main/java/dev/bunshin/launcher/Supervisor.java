package dev.bunshin.launcher;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;

/**
 * Keeps child processes running: {@link #check()}, called every second or so, restarts a child that died (after
 * the {@link RestartPolicy}'s delay) while the others keep serving, and gives up — returning why — only when one
 * keeps dying past the policy's limit. Every death and restart is said on the console and appended to an event
 * log (and marked in the child's own log), with the reason (exit code or signal) and the tail of its log.
 *
 * <p>Children are checked, restarted and (by {@link #close()}) stopped in the order they were added, reversed for
 * stopping: the broker and the database first, then the apps that use them.
 */
final class Supervisor implements AutoCloseable {

    /** How long the descendants of a dead child (PostgreSQL's backends) get to leave before they are killed. */
    static final Duration LEFTOVER_PATIENCE = Duration.ofSeconds(10);
    private static final int TAIL_LINES = 15;

    private final RestartPolicy policy;
    private final PrintStream console;
    private final Path events;
    private final List<Slot> slots = new CopyOnWriteArrayList<>();
    private volatile boolean closing;

    /**
     * @param console where deaths and restarts are said (the launcher's terminal)
     * @param events the file they are also appended to ({@code <data-dir>/logs/supervisor.log})
     */
    Supervisor(RestartPolicy policy, PrintStream console, Path events) {
        this.policy = Objects.requireNonNull(policy, "policy == null");
        this.console = Objects.requireNonNull(console, "console == null");
        this.events = Objects.requireNonNull(events, "events == null");
    }

    /**
     * Supervises {@code first} (already started, and ready or about to be); {@code restart} starts a new one and
     * returns once it is ready, or throws (having stopped what it started) when it does not come up.
     */
    void add(String name, ChildProcess first, Supplier<ChildProcess> restart) {
        Objects.requireNonNull(first, "first == null");
        Objects.requireNonNull(restart, "restart == null");
        slots.add(new Slot(name, first, restart));
    }

    /** The policy it restarts by. */
    RestartPolicy policy() {
        return policy;
    }

    /** The process now running under {@code name}, or null for an unknown name. */
    ChildProcess current(String name) {
        for (Slot slot : slots) {
            if (slot.name.equals(name)) {
                return slot.current;
            }
        }
        return null;
    }

    /** How many times {@code name} was restarted within the policy's window. */
    int recentRestarts(String name) {
        for (Slot slot : slots) {
            if (slot.name.equals(name)) {
                slot.forgetOldRestarts(Instant.now());
                return slot.restarts.size();
            }
        }
        return 0;
    }

    /**
     * One round: notes the live children's process trees, and for a dead one either schedules its restart or,
     * once its delay has passed, restarts it (blocking until it is ready or failed). Returns null, or why it gives
     * up: the child that keeps dying, how often, its last exit and its log's tail.
     */
    String check() {
        for (Slot slot : slots) {
            if (closing) {
                return null;
            }
            String giveUp = check(slot);
            if (giveUp != null) {
                return giveUp;
            }
        }
        return null;
    }

    private String check(Slot slot) {
        ChildProcess child = slot.current;
        if (child.isAlive()) {
            child.observeTree();
            return null;
        }
        Instant now = Instant.now();
        if (slot.restartAt == null) {
            // A death not seen before.
            slot.forgetOldRestarts(now);
            String reason = child.exitReason();
            String tail = indent(child.tail(TAIL_LINES));
            markInChildLog(child, "exited: " + reason);
            if (slot.restarts.size() >= policy.maxRestarts()) {
                return giveUp(slot, reason, tail);
            }
            Duration delay = policy.delay(slot.restarts.size());
            slot.restartAt = now.plus(delay);
            say(slot.name + " (pid " + child.pid() + ") died: " + reason + "; restarting it in " + seconds(delay)
                    + " (restart " + (slot.restarts.size() + 1) + ", at most " + policy.describe() + "); the end of "
                    + child.log() + ":\n" + tail);
            int killed = child.reapLeftovers(LEFTOVER_PATIENCE);
            if (killed > 0) {
                say(slot.name + ": killed " + killed + " process(es) it left behind");
            }
            return null;
        }
        if (now.isBefore(slot.restartAt)) {
            return null;
        }
        slot.restarts.addLast(now);
        long started = System.nanoTime();
        say("restarting " + slot.name + " ...");
        try {
            ChildProcess fresh = slot.restart.get();
            if (closing) {
                fresh.close();
                return null;
            }
            slot.current = fresh;
            slot.restartAt = null;
            say(slot.name + " is back (pid " + fresh.pid() + ", ready in "
                    + seconds(Duration.ofNanos(System.nanoTime() - started)) + ")");
            return null;
        } catch (RuntimeException e) {
            if (closing) {
                return null;
            }
            String reason = "did not come back: " + firstLines(String.valueOf(e.getMessage()), 1);
            slot.forgetOldRestarts(Instant.now());
            if (slot.restarts.size() >= policy.maxRestarts()) {
                return giveUp(slot, reason, indent(lastLines(String.valueOf(e.getMessage()), TAIL_LINES)));
            }
            Duration delay = policy.delay(slot.restarts.size());
            slot.restartAt = Instant.now().plus(delay);
            say(slot.name + " " + reason + "; trying again in " + seconds(delay) + ":\n"
                    + indent(lastLines(String.valueOf(e.getMessage()), TAIL_LINES)));
            return null;
        }
    }

    private String giveUp(Slot slot, String reason, String tail) {
        String why = policy.maxRestarts() == 0 ? slot.name + " died: " + reason + " (restarts are off)"
                : slot.name + " keeps dying: " + reason + ", after " + slot.restarts.size() + " restart"
                + (slot.restarts.size() == 1 ? "" : "s") + " (the limit is " + policy.describe() + ")";
        String message = why + "; the end of " + slot.current.log() + ":\n" + tail;
        record("GIVING UP: " + message);
        return message;
    }

    /** Stops every child, newest slot first. Safe to call twice and from a shutdown hook, also during a restart. */
    @Override
    public void close() {
        closing = true;
        List<Slot> all = new ArrayList<>(slots);
        for (int i = all.size() - 1; i >= 0; i--) {
            try {
                all.get(i).current.close();
            } catch (RuntimeException e) {
                console.println("bunshin: while stopping " + all.get(i).name + ": " + e);
            }
        }
    }

    boolean closing() {
        return closing;
    }

    private void say(String line) {
        console.println("bunshin: " + line);
        record(line);
    }

    private void record(String line) {
        try {
            Files.createDirectories(events.toAbsolutePath().getParent());
            Files.writeString(events, Instant.now() + " " + line + "\n", StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            console.println("bunshin: cannot write " + events + ": " + e);
        }
    }

    private static void markInChildLog(ChildProcess child, String line) {
        try {
            Files.writeString(child.log(), "\n=== " + Instant.now() + " " + line + "\n", StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException ignored) {
            // the console and the event log still say it
        }
    }

    private static String seconds(Duration d) {
        long millis = d.toMillis();
        return millis % 1000 == 0 ? millis / 1000 + " s" : String.format(java.util.Locale.ROOT, "%.1f s", millis / 1000.0);
    }

    private static String indent(String text) {
        return text.lines().map(l -> "    | " + l).reduce((a, b) -> a + "\n" + b).orElse("    | (empty)");
    }

    private static String firstLines(String text, int n) {
        return String.join(" ", text.lines().limit(n).toList());
    }

    private static String lastLines(String text, int n) {
        List<String> lines = text.lines().toList();
        return String.join("\n", lines.subList(Math.max(0, lines.size() - n), lines.size()));
    }

    /** One supervised child: its current process, how to start another, and its recent restarts. */
    private final class Slot {
        final String name;
        final Supplier<ChildProcess> restart;
        final Deque<Instant> restarts = new ArrayDeque<>();
        volatile ChildProcess current;
        Instant restartAt;

        Slot(String name, ChildProcess first, Supplier<ChildProcess> restart) {
            this.name = Objects.requireNonNull(name, "name == null");
            this.current = first;
            this.restart = restart;
        }

        void forgetOldRestarts(Instant now) {
            Instant horizon = now.minus(policy.window());
            while (!restarts.isEmpty() && restarts.peekFirst().isBefore(horizon)) {
                restarts.removeFirst();
            }
        }
    }
}
