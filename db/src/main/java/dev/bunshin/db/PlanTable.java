package dev.bunshin.db;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads and writes {@link StagePlan}s in the {@code stage_plans} table (db/migrations/V10, V13, V17). Plain JDBC so that
 * the scheduler (writer), the workers and the submitter (readers) share one definition of the control-plane contract.
 */
public final class PlanTable {

    private PlanTable() {}

    /** The plan with the highest epoch for {@code model}, or null before the first plan. */
    public static StagePlan current(Connection c, String model) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT epoch, stage, worker_id, layer_start, layer_end, topic, coalesce(context_length, 0) AS context_length
                FROM stage_plans
                WHERE model = ? AND epoch = (SELECT max(epoch) FROM stage_plans WHERE model = ?)
                ORDER BY stage""")) {
            ps.setString(1, model);
            ps.setString(2, model);
            try (ResultSet rs = ps.executeQuery()) {
                int epoch = 0;
                int contextLength = 0;
                List<StagePlan.Stage> stages = new ArrayList<>();
                while (rs.next()) {
                    epoch = rs.getInt("epoch");
                    contextLength = rs.getInt("context_length");
                    stages.add(new StagePlan.Stage(rs.getInt("stage"), rs.getString("worker_id"),
                            rs.getInt("layer_start"), rs.getInt("layer_end"), rs.getString("topic")));
                }
                return stages.isEmpty() ? null : new StagePlan(model, epoch, contextLength, stages);
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

    /**
     * The context length of {@code model}'s current plan: what the submitter checks prompts against. 0 before the
     * first plan, or when the current plan was stored without one (then the model's trained context applies).
     */
    public static int currentContextLength(Connection c, String model) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT coalesce(max(context_length), 0) FROM stage_plans
                WHERE model = ? AND epoch = (SELECT max(epoch) FROM stage_plans WHERE model = ?)""")) {
            ps.setString(1, model);
            ps.setString(2, model);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    /** Inserts every stage of {@code plan}; run it in the caller's transaction. */
    public static void insert(Connection c, StagePlan plan) throws SQLException {
        insert(c, plan, Map.of());
    }

    /**
     * Inserts every stage of {@code plan} with the incarnation of its worker ({@code incarnations} by worker id, V17);
     * run it in the caller's transaction.
     */
    public static void insert(Connection c, StagePlan plan, Map<String, String> incarnations) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                INSERT INTO stage_plans (model, epoch, stage, stage_count, worker_id, layer_start, layer_end, topic,
                                         context_length, worker_incarnation)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""")) {
            for (StagePlan.Stage s : plan.stages()) {
                ps.setString(1, plan.model());
                ps.setInt(2, plan.epoch());
                ps.setInt(3, s.index());
                ps.setInt(4, plan.stages().size());
                ps.setString(5, s.workerId());
                ps.setInt(6, s.layerStart());
                ps.setInt(7, s.layerEnd());
                ps.setString(8, s.topic());
                if (plan.contextLength() > 0) ps.setInt(9, plan.contextLength());
                else ps.setNull(9, java.sql.Types.INTEGER);
                ps.setString(10, incarnations.get(s.workerId()));
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    /**
     * The incarnation each stage's worker had when plan {@code epoch} of {@code model} was made, by worker id; a
     * worker without one (a plan stored before V17) maps to null.
     */
    public static Map<String, String> incarnations(Connection c, String model, int epoch) throws SQLException {
        Map<String, String> out = new HashMap<>();
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT worker_id, worker_incarnation FROM stage_plans WHERE model = ? AND epoch = ?")) {
            ps.setString(1, model);
            ps.setInt(2, epoch);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.put(rs.getString("worker_id"), rs.getString("worker_incarnation"));
            }
        }
        return out;
    }
}
