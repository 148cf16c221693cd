package dev.bunshin.db;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads and writes {@link StagePlan}s in the {@code stage_plans} table (db/migrations/V10). Plain JDBC so that the
 * scheduler (writer) and the workers (readers) share one definition of the control-plane contract.
 */
public final class PlanTable {

    private PlanTable() {}

    /** The plan with the highest epoch for {@code model}, or null before the first plan. */
    public static StagePlan current(Connection c, String model) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT epoch, stage, worker_id, layer_start, layer_end, topic FROM stage_plans
                WHERE model = ? AND epoch = (SELECT max(epoch) FROM stage_plans WHERE model = ?)
                ORDER BY stage""")) {
            ps.setString(1, model);
            ps.setString(2, model);
            try (ResultSet rs = ps.executeQuery()) {
                int epoch = 0;
                List<StagePlan.Stage> stages = new ArrayList<>();
                while (rs.next()) {
                    epoch = rs.getInt(1);
                    stages.add(new StagePlan.Stage(rs.getInt(2), rs.getString(3), rs.getInt(4), rs.getInt(5),
                            rs.getString(6)));
                }
                return stages.isEmpty() ? null : new StagePlan(model, epoch, stages);
            }
        }
    }

    /** The highest epoch for {@code model}, 0 before the first plan: cheap enough to poll. */
    public static int currentEpoch(Connection c, String model) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT coalesce(max(epoch), 0) FROM stage_plans WHERE model = ?")) {
            ps.setString(1, model);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    /** Inserts every stage of {@code plan}; run it in the caller's transaction. */
    public static void insert(Connection c, StagePlan plan) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                INSERT INTO stage_plans (model, epoch, stage, stage_count, worker_id, layer_start, layer_end, topic)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)""")) {
            for (StagePlan.Stage s : plan.stages()) {
                ps.setString(1, plan.model());
                ps.setInt(2, plan.epoch());
                ps.setInt(3, s.index());
                ps.setInt(4, plan.stages().size());
                ps.setString(5, s.workerId());
                ps.setInt(6, s.layerStart());
                ps.setInt(7, s.layerEnd());
                ps.setString(8, s.topic());
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }
}
