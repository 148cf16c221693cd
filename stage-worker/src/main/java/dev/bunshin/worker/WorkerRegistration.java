package dev.bunshin.worker;

import dev.bunshin.db.WorkersTable;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.UUID;

/**
 * This worker's row in the {@code workers} table ({@link WorkersTable}): register, heartbeat, report what it has
 * loaded. Every statement names this process's incarnation (a random id made here, V17): one worker id is one
 * process, and nothing this one does changes the row of another process with the same id.
 */
final class WorkerRegistration {

    /** A heartbeat younger than this many heartbeat intervals (and at least {@link #MIN_LIVE_WINDOW}) holds the id. */
    private static final int LIVE_HEARTBEATS = 3;
    private static final Duration MIN_LIVE_WINDOW = Duration.ofSeconds(3);

    /** What a heartbeat found. */
    enum Beat { LIVE, REVIVED, GONE }

    private final DataSource db;
    private final WorkerSettings s;
    private final String incarnation = UUID.randomUUID().toString();

    WorkerRegistration(DataSource db, WorkerSettings s) {
        this.db = db;
        this.s = s;
    }

    String incarnation() {
        return incarnation;
    }

    /**
     * Registers this process as worker {@code s.id()}. While another incarnation holds the id with a recent
     * heartbeat, tries again for one live window: a process killed a moment ago (its supervisor restarting it at
     * once) stops heartbeating and frees the id; a live one keeps it.
     *
     * @throws IllegalStateException naming the id when another process still holds it (live, heartbeating)
     */
    void register(double speedGflops) throws SQLException, InterruptedException {
        Duration window = s.heartbeat().multipliedBy(LIVE_HEARTBEATS);
        if (window.compareTo(MIN_LIVE_WINDOW) < 0) window = MIN_LIVE_WINDOW;
        long deadline = System.nanoTime() + window.toNanos() + s.heartbeat().toNanos();
        while (true) {
            try (Connection c = db.getConnection()) {
                if (WorkersTable.register(c, s.id(), incarnation, s.modelId(), s.host(), s.memoryBytes(), s.threads(),
                        speedGflops, window)) {
                    return;
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("worker id " + s.id() + " is already in use by another live process: "
                            + WorkersTable.describe(c, s.id()) + ". Stop that process, or give this one another "
                            + "bunshin.worker.id (an id whose heartbeat is older than " + window.toMillis() + " ms is free)");
                }
            }
            Thread.sleep(s.heartbeat().toMillis());
        }
    }

    /** Heartbeats; a row marked lost while this process was silent (the database away) is made live again. */
    Beat heartbeat() throws SQLException {
        try (Connection c = db.getConnection()) {
            if (WorkersTable.heartbeat(c, s.id(), incarnation)) return Beat.LIVE;
            return WorkersTable.revive(c, s.id(), incarnation) ? Beat.REVIVED : Beat.GONE;
        }
    }

    void loaded(int epoch) throws SQLException {
        try (Connection c = db.getConnection()) {
            WorkersTable.loaded(c, s.id(), incarnation, epoch);
        }
    }

    /** Records what this worker runs (the {@code workers} row's backend columns). */
    void backend(String backend, String detail) throws SQLException {
        try (Connection c = db.getConnection()) {
            WorkersTable.backend(c, s.id(), incarnation, backend, detail);
        }
    }

    void stopped(String error) throws SQLException {
        try (Connection c = db.getConnection()) {
            WorkersTable.stopped(c, s.id(), incarnation, error);
        }
    }
}
