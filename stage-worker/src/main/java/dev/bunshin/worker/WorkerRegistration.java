package dev.bunshin.worker;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;

/** The worker's row in the {@code workers} table: register, heartbeat, report what it has loaded. */
final class WorkerRegistration {

    private final DataSource db;
    private final WorkerSettings s;

    WorkerRegistration(DataSource db, WorkerSettings s) {
        this.db = db;
        this.s = s;
    }

    /** (Re-)registers; a new registered_at tells the scheduler this incarnation holds no KV caches. */
    void register(double speedGflops) throws SQLException {
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement("""
                INSERT INTO workers (id, model, host, memory_bytes, threads, speed_gflops, status, loaded_epoch,
                                     load_error, registered_at, last_heartbeat)
                VALUES (?, ?, ?, ?, ?, ?, 'live', NULL, NULL, clock_timestamp(), clock_timestamp())
                ON CONFLICT (id) DO UPDATE SET model = excluded.model, host = excluded.host,
                    memory_bytes = excluded.memory_bytes, threads = excluded.threads,
                    speed_gflops = excluded.speed_gflops, status = 'live', loaded_epoch = NULL, load_error = NULL,
                    registered_at = excluded.registered_at, last_heartbeat = excluded.last_heartbeat""")) {
            ps.setString(1, s.id());
            ps.setString(2, s.modelId());
            ps.setString(3, s.host());
            ps.setLong(4, s.memoryBytes());
            ps.setInt(5, s.threads());
            ps.setDouble(6, speedGflops);
            ps.executeUpdate();
        }
    }

    void heartbeat() throws SQLException {
        update("UPDATE workers SET last_heartbeat = clock_timestamp() WHERE id = ? AND status = 'live'", null, 0);
    }

    void loaded(int epoch) throws SQLException {
        update("UPDATE workers SET loaded_epoch = ?, load_error = NULL WHERE id = ?", null, epoch);
    }

    void stopped(String error) throws SQLException {
        update("UPDATE workers SET status = 'stopped', load_error = ? WHERE id = ?", error, 0);
    }

    private void update(String sql, String text, int epoch) throws SQLException {
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            int i = 1;
            if (sql.contains("loaded_epoch = ?")) ps.setInt(i++, epoch);
            if (sql.contains("load_error = ?")) ps.setString(i++, text);
            ps.setString(i, s.id());
            ps.executeUpdate();
        }
    }
}
