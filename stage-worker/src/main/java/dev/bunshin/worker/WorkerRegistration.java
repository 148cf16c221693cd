package dev.bunshin.worker;

import dev.bunshin.db.WorkersTable;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.SQLException;

/** This worker's row in the {@code workers} table ({@link WorkersTable}): register, heartbeat, report what it has loaded. */
final class WorkerRegistration {

    private final DataSource db;
    private final WorkerSettings s;

    WorkerRegistration(DataSource db, WorkerSettings s) {
        this.db = db;
        this.s = s;
    }

    void register(double speedGflops) throws SQLException {
        try (Connection c = db.getConnection()) {
            WorkersTable.register(c, s.id(), s.modelId(), s.host(), s.memoryBytes(), s.threads(), speedGflops);
        }
    }

    void heartbeat() throws SQLException {
        try (Connection c = db.getConnection()) {
            WorkersTable.heartbeat(c, s.id());
        }
    }

    void loaded(int epoch) throws SQLException {
        try (Connection c = db.getConnection()) {
            WorkersTable.loaded(c, s.id(), epoch);
        }
    }

    /** Records what this worker runs (the {@code workers} row's backend columns). */
    void backend(String backend, String detail) throws SQLException {
        try (Connection c = db.getConnection()) {
            WorkersTable.backend(c, s.id(), backend, detail);
        }
    }

    void stopped(String error) throws SQLException {
        try (Connection c = db.getConnection()) {
            WorkersTable.stopped(c, s.id(), error);
        }
    }
}
