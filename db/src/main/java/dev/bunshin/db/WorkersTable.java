package dev.bunshin.db;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code workers} table (db/migrations/V10): a stage worker registers, heartbeats and reports the plan it has
 * loaded; the scheduler reads the live ones and marks the silent ones lost. Each method runs in the caller's
 * connection.
 */
public final class WorkersTable {

    private WorkersTable() {}

    /** (Re-)registers as live; a new registered_at tells the scheduler this incarnation holds no KV caches. */
    public static void register(Connection c, String id, String model, String host, long memoryBytes, int threads,
                                double speedGflops) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                INSERT INTO workers (id, model, host, memory_bytes, threads, speed_gflops, status, loaded_epoch,
                                     load_error, registered_at, last_heartbeat)
                VALUES (?, ?, ?, ?, ?, ?, 'live', NULL, NULL, clock_timestamp(), clock_timestamp())
                ON CONFLICT (id) DO UPDATE SET model = excluded.model, host = excluded.host,
                    memory_bytes = excluded.memory_bytes, threads = excluded.threads,
                    speed_gflops = excluded.speed_gflops, status = 'live', loaded_epoch = NULL, load_error = NULL,
                    registered_at = excluded.registered_at, last_heartbeat = excluded.last_heartbeat""")) {
            ps.setString(1, id);
            ps.setString(2, model);
            ps.setString(3, host);
            ps.setLong(4, memoryBytes);
            ps.setInt(5, threads);
            ps.setDouble(6, speedGflops);
            ps.executeUpdate();
        }
    }

    /** A live worker says it is still there (heartbeats do not wake the scheduler: V12). */
    public static void heartbeat(Connection c, String id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "UPDATE workers SET last_heartbeat = clock_timestamp() WHERE id = ? AND status = 'live'")) {
            ps.setString(1, id);
            ps.executeUpdate();
        }
    }

    /** The worker has loaded its stage of plan {@code epoch} (or has no stage in it). */
    public static void loaded(Connection c, String id, int epoch) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "UPDATE workers SET loaded_epoch = ?, load_error = NULL WHERE id = ?")) {
            ps.setInt(1, epoch);
            ps.setString(2, id);
            ps.executeUpdate();
        }
    }

    /** What the worker runs: {@code backend} ("java", "llama.cpp") and one line on it (library, release, devices). */
    public static void backend(Connection c, String id, String backend, String detail) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "UPDATE workers SET backend = ?, backend_detail = ? WHERE id = ?")) {
            ps.setString(1, backend);
            ps.setString(2, detail);
            ps.setString(3, id);
            ps.executeUpdate();
        }
    }

    /** The worker stopped; {@code error} says why if it failed, else null. */
    public static void stopped(Connection c, String id, String error) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "UPDATE workers SET status = 'stopped', load_error = ? WHERE id = ?")) {
            ps.setString(1, error);
            ps.setString(2, id);
            ps.executeUpdate();
        }
    }

    /**
     * Marks {@code model}'s live workers silent for longer than {@code timeout} as lost; returns their ids.
     *
     * <p>Looks before it writes: the UPDATE fires V12's statement-level trigger, which NOTIFYs the scheduler even
     * when no row changes, and the scheduler runs this on every tick — an UPDATE every time made each tick wake
     * the next one at once (≈ 3,300 commits/s on an idle stack, a third of a core for the scheduler and as much
     * for its PostgreSQL backend).
     */
    public static List<String> expireSilent(Connection c, String model, Duration timeout) throws SQLException {
        List<String> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT 1 FROM workers WHERE model = ? AND status = 'live'
                AND last_heartbeat < now() - make_interval(secs => ?) LIMIT 1""")) {
            ps.setString(1, model);
            ps.setDouble(2, timeout.toMillis() / 1000.0);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) return out;
            }
        }
        try (PreparedStatement ps = c.prepareStatement("""
                UPDATE workers SET status = 'lost' WHERE model = ? AND status = 'live'
                AND last_heartbeat < now() - make_interval(secs => ?) RETURNING id""")) {
            ps.setString(1, model);
            ps.setDouble(2, timeout.toMillis() / 1000.0);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.add(rs.getString("id"));
            }
        }
        return out;
    }

    /** {@code model}'s live workers in registration order. */
    public static List<WorkerInfo> live(Connection c, String model) throws SQLException {
        List<WorkerInfo> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT id, host, memory_bytes, threads, speed_gflops, coalesce(loaded_epoch, 0) AS loaded_epoch,
                       registered_at
                FROM workers WHERE model = ? AND status = 'live' ORDER BY registered_at, id""")) {
            ps.setString(1, model);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new WorkerInfo(rs.getString("id"), rs.getString("host"), rs.getLong("memory_bytes"),
                            rs.getInt("threads"), rs.getDouble("speed_gflops"), rs.getInt("loaded_epoch"),
                            rs.getTimestamp("registered_at").getTime()));
                }
            }
        }
        return out;
    }
}
