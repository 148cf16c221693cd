package dev.bunshin.db;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code workers} table (db/migrations/V10): a stage worker registers, heartbeats and reports the plan it has
 * loaded; the scheduler reads the live ones and marks the silent ones lost. Each method runs in the caller's
 * connection.
 */
public final class WorkersTable {

    private WorkersTable() {}

    /**
     * (Re-)registers as live whatever holds the id, with no incarnation: for tools and tests that play a worker.
     * Stage workers use {@link #register(Connection, String, String, String, String, long, int, double, Duration)}.
     */
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

    /**
     * Registers incarnation {@code incarnation} of worker {@code id} as live, unless another incarnation of that id
     * is live and heartbeated within {@code liveWindow}: one id is one process (V17). Returns false, changing
     * nothing, when refused ({@link #describe} says who holds the id). The same incarnation registering again keeps
     * its loaded epoch (it still holds its layers and caches); a new one starts with none.
     */
    public static boolean register(Connection c, String id, String incarnation, String model, String host,
                                   long memoryBytes, int threads, double speedGflops, Duration liveWindow)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                INSERT INTO workers (id, incarnation, model, host, memory_bytes, threads, speed_gflops, status,
                                     loaded_epoch, load_error, registered_at, last_heartbeat)
                VALUES (?, ?, ?, ?, ?, ?, ?, 'live', NULL, NULL, clock_timestamp(), clock_timestamp())
                ON CONFLICT (id) DO UPDATE SET model = excluded.model, host = excluded.host,
                    memory_bytes = excluded.memory_bytes, threads = excluded.threads,
                    speed_gflops = excluded.speed_gflops, status = 'live', load_error = NULL,
                    loaded_epoch = CASE WHEN workers.incarnation = excluded.incarnation THEN workers.loaded_epoch END,
                    registered_at = CASE WHEN workers.incarnation = excluded.incarnation THEN workers.registered_at
                                         ELSE excluded.registered_at END,
                    incarnation = excluded.incarnation, last_heartbeat = excluded.last_heartbeat
                WHERE workers.status <> 'live' OR workers.incarnation IS NOT DISTINCT FROM excluded.incarnation
                   OR workers.last_heartbeat < clock_timestamp() - make_interval(secs => ?)""")) {
            ps.setString(1, id);
            ps.setString(2, incarnation);
            ps.setString(3, model);
            ps.setString(4, host);
            ps.setLong(5, memoryBytes);
            ps.setInt(6, threads);
            ps.setDouble(7, speedGflops);
            ps.setDouble(8, liveWindow.toMillis() / 1000.0);
            return ps.executeUpdate() > 0;
        }
    }

    /** Who holds worker id {@code id}, for an error message: status, host, incarnation and heartbeat age; or null. */
    public static String describe(Connection c, String id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT status, host, incarnation, extract(epoch FROM clock_timestamp() - last_heartbeat) AS age
                FROM workers WHERE id = ?""")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) return null;
                return rs.getString("status") + " on host " + rs.getString("host") + " (incarnation "
                        + rs.getString("incarnation") + ", last heartbeat " + String.format("%.1f", rs.getDouble("age"))
                        + " s ago)";
            }
        }
    }

    /**
     * {@code model}'s workers for an operator: the live ones and those heard from within {@code recent}, live first,
     * then in registration order. One indexed read ({@code workers_model_status}).
     */
    public static List<WorkerRow> shown(Connection c, String model, Duration recent) throws SQLException {
        List<WorkerRow> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT id, host, backend, backend_detail, memory_bytes, threads, speed_gflops, status,
                       coalesce(loaded_epoch, 0) AS loaded_epoch, load_error,
                       (extract(epoch FROM clock_timestamp() - last_heartbeat) * 1000)::bigint AS age_ms
                FROM workers
                WHERE model = ? AND (status = 'live' OR last_heartbeat > clock_timestamp() - make_interval(secs => ?))
                ORDER BY status <> 'live', registered_at, id""")) {
            ps.setString(1, model);
            ps.setDouble(2, recent.toMillis() / 1000.0);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new WorkerRow(rs.getString("id"), rs.getString("host"), rs.getString("backend"),
                            rs.getString("backend_detail"), rs.getLong("memory_bytes"), rs.getInt("threads"),
                            rs.getDouble("speed_gflops"), rs.getString("status"), rs.getInt("loaded_epoch"),
                            rs.getString("load_error"), Math.max(0, rs.getLong("age_ms"))));
                }
            }
        }
        return out;
    }

    /**
     * Incarnation {@code incarnation} of worker {@code id} is still there (heartbeats do not wake the scheduler: V12). False if its row is not live for this
     * incarnation (marked lost while it was silent, or taken over by a newer process).
     */
    public static boolean heartbeat(Connection c, String id, String incarnation) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                UPDATE workers SET last_heartbeat = clock_timestamp()
                WHERE id = ? AND incarnation = ? AND status = 'live'""")) {
            ps.setString(1, id);
            ps.setString(2, incarnation);
            return ps.executeUpdate() > 0;
        }
    }

    /**
     * A worker marked lost (silent past the scheduler's timeout, e.g. while the database was away) is live again,
     * with what it has loaded: the scheduler re-plans with it, or adopts the plan it is in again. False, changing
     * nothing, unless its row is lost and still this incarnation's.
     */
    public static boolean revive(Connection c, String id, String incarnation) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                UPDATE workers SET status = 'live', last_heartbeat = clock_timestamp()
                WHERE id = ? AND incarnation = ? AND status = 'lost'""")) {
            ps.setString(1, id);
            ps.setString(2, incarnation);
            return ps.executeUpdate() > 0;
        }
    }

    /** Incarnation {@code incarnation} of the worker has loaded its stage of plan {@code epoch} (or has none in it). */
    public static void loaded(Connection c, String id, String incarnation, int epoch) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "UPDATE workers SET loaded_epoch = ?, load_error = NULL WHERE id = ? AND incarnation = ?")) {
            ps.setInt(1, epoch);
            ps.setString(2, id);
            ps.setString(3, incarnation);
            ps.executeUpdate();
        }
    }

    /** What the worker runs: {@code backend} ("java", "llama.cpp") and one line on it (library, release, devices). */
    public static void backend(Connection c, String id, String incarnation, String backend, String detail)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "UPDATE workers SET backend = ?, backend_detail = ? WHERE id = ? AND incarnation = ?")) {
            ps.setString(1, backend);
            ps.setString(2, detail);
            ps.setString(3, id);
            ps.setString(4, incarnation);
            ps.executeUpdate();
        }
    }

    /**
     * Incarnation {@code incarnation} of the worker stopped; {@code error} says why if it failed, else null. A row
     * that another process (a newer incarnation) holds is left alone.
     */
    public static void stopped(Connection c, String id, String incarnation, String error) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "UPDATE workers SET status = 'stopped', load_error = ? WHERE id = ? AND incarnation = ?")) {
            ps.setString(1, error);
            ps.setString(2, id);
            ps.setString(3, incarnation);
            ps.executeUpdate();
        }
    }

    /** The incarnation of each of {@code model}'s live workers, by id (null for one registered before V17). */
    public static Map<String, String> liveIncarnations(Connection c, String model) throws SQLException {
        Map<String, String> out = new HashMap<>();
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT id, incarnation FROM workers WHERE model = ? AND status = 'live'")) {
            ps.setString(1, model);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.put(rs.getString("id"), rs.getString("incarnation"));
            }
        }
        return out;
    }

    /**
     * Marks {@code model}'s live workers silent for longer than {@code timeout} as lost; returns their ids. The
     * scheduler runs this on every tick: an UPDATE that changes no row must not wake it (V18's per-row trigger).
     */
    public static List<String> expireSilent(Connection c, String model, Duration timeout) throws SQLException {
        List<String> out = new ArrayList<>();
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

    /** The statuses a {@code workers} row can have (db/migrations/V10). */
    public static final List<String> STATUSES = List.of("live", "lost", "stopped");

    /** How many of {@code model}'s workers are in each of {@link #STATUSES}; every status is present (0 when none). */
    public static Map<String, Long> countByStatus(Connection c, String model) throws SQLException {
        Map<String, Long> out = new LinkedHashMap<>();
        for (String s : STATUSES) out.put(s, 0L);
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT status, count(*) FROM workers WHERE model = ? GROUP BY status")) {
            ps.setString(1, model);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.put(rs.getString(1), rs.getLong(2));
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
