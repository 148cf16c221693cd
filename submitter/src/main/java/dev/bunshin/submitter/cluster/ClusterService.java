package dev.bunshin.submitter.cluster;

import dev.bunshin.db.PlanTable;
import dev.bunshin.db.StagePlan;
import dev.bunshin.db.WorkerRow;
import dev.bunshin.db.WorkersTable;
import dev.bunshin.models.plan.ModelFootprint;
import dev.bunshin.submitter.api.Tenant;
import dev.bunshin.submitter.model.ServedModel;
import dev.bunshin.submitter.model.ServedModels;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import javax.sql.DataSource;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One snapshot of the cluster, as {@code GET /v1/cluster} answers it (field by field in docs/api.md): the served
 * model's workers and current stage plan, the queue, recent jobs and batches, and the throughput of the last ten
 * minutes. Workers, plan, queue depth and throughput are the cluster's, visible to any valid key; jobs and batches
 * are the tenant's own (all of them for an admin key or an open API). Every read is an indexed one, so a dashboard
 * may ask every second.
 */
@ApplicationScoped
public class ClusterService {

    /** Workers no longer live are shown for this long after their last heartbeat. */
    static final Duration SHOW_GONE_WORKERS = Duration.ofHours(1);
    /** Jobs by status are counted among the tenant's newest this many (a bounded read, whatever the table's size). */
    static final int COUNTED_JOBS = 1000;
    static final List<String> JOB_STATUSES = List.of("queued", "running", "completed", "failed", "cancelled");

    private final DataSource db;
    private final ServedModel model;
    private final ModelFootprint footprint;
    private final ThroughputSampler sampler;
    private volatile boolean closing; // set at shutdown: open streams end instead of holding the server up

    ClusterService(DataSource db, ServedModels models, ThroughputSampler sampler) {
        this.db = db;
        this.model = models.all().getFirst();
        this.footprint = ModelFootprint.of(model.file(), model.layerCount());
        this.sampler = sampler;
    }

    /** The snapshot {@code tenant} may see, with its newest {@code jobs} jobs and {@code batches} batches. */
    public Map<String, Object> snapshot(Tenant tenant, int jobs, int batches) {
        try (Connection c = db.getConnection()) {
            StagePlan plan = PlanTable.current(c, model.id());
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("object", "cluster");
            m.put("time", Instant.now().toString());
            m.put("model", modelView());
            m.put("workers", WorkersTable.shown(c, model.id(), SHOW_GONE_WORKERS).stream()
                    .map(w -> workerView(w, plan)).toList());
            m.put("plan", plan == null ? null : planView(plan));
            m.put("queue", queue(c));
            m.put("jobs", jobs(c, tenant, jobs));
            m.put("batches", batches(c, tenant, batches));
            m.put("throughput", throughputView());
            return m;
        } catch (SQLException e) {
            throw new IllegalStateException("reading the cluster's state: " + e.getMessage(), e);
        }
    }

    /** Whether the server is shutting down: streams of snapshots stop. */
    public boolean closing() {
        return closing;
    }

    void stop(@Observes ShutdownEvent event) {
        closing = true;
    }

    private Map<String, Object> modelView() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", model.id());
        m.put("architecture", model.architecture());
        m.put("layers", model.layerCount());
        return m;
    }

    private Map<String, Object> workerView(WorkerRow w, StagePlan plan) {
        StagePlan.Stage stage = plan == null ? null : plan.stageOf(w.id());
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", w.id());
        m.put("host", w.host());
        m.put("status", w.status());
        m.put("backend", w.backend());
        m.put("device", w.backendDetail());
        m.put("memory_bytes", w.memoryBytes());
        m.put("stage_weights_bytes", stage == null ? null : weightBytes(plan, stage));
        m.put("threads", w.threads());
        m.put("speed_gflops", w.speedGflops());
        m.put("heartbeat_age_ms", w.heartbeatAgeMillis());
        m.put("loaded_epoch", w.loadedEpoch());
        m.put("load_error", w.loadError());
        m.put("stage", stage == null ? null : stage.index());
        m.put("layers", stage == null ? null : List.of(stage.layerStart(), stage.layerEnd()));
        return m;
    }

    /** The tensor bytes a stage holds: its layers, plus the embedding on the first and the head on the last. */
    private long weightBytes(StagePlan plan, StagePlan.Stage s) {
        long bytes = 0;
        for (int il = s.layerStart(); il < Math.min(s.layerEnd(), footprint.layerBytes().size()); il++) {
            bytes += footprint.layerBytes().get(il);
        }
        if (s.index() == 0) bytes += footprint.firstExtra();
        if (plan.isLast(s)) bytes += footprint.lastExtra();
        return bytes;
    }

    private Map<String, Object> planView(StagePlan plan) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("epoch", plan.epoch());
        m.put("context_length", plan.contextLength());
        m.put("layers", model.layerCount());
        List<Map<String, Object>> stages = new ArrayList<>();
        for (StagePlan.Stage s : plan.stages()) {
            Map<String, Object> st = new LinkedHashMap<>();
            st.put("stage", s.index());
            st.put("worker_id", s.workerId());
            st.put("layer_start", s.layerStart());
            st.put("layer_end", s.layerEnd());
            st.put("topic", s.topic());
            stages.add(st);
        }
        m.put("stages", stages);
        return m;
    }

    /** The model's queued and running jobs, everyone's: how busy the cluster is (jobs_status_id). */
    private Map<String, Object> queue(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT count(*) FILTER (WHERE status = 'queued') AS queued,
                       count(*) FILTER (WHERE status = 'running') AS running
                FROM jobs WHERE status IN ('queued', 'running') AND model = ?""")) {
            ps.setString(1, model.id());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("queued", rs.getLong("queued"));
                m.put("running", rs.getLong("running"));
                return m;
            }
        }
    }

    private Map<String, Object> jobs(Connection c, Tenant tenant, int limit) throws SQLException {
        String mine = tenant.seesAll() ? "" : " AND owner = ?";
        Map<String, Object> byStatus = new LinkedHashMap<>();
        JOB_STATUSES.forEach(s -> byStatus.put(s, 0L));
        try (PreparedStatement ps = c.prepareStatement("SELECT status, count(*) AS n FROM (SELECT status FROM jobs "
                + "WHERE model = ?" + mine + " ORDER BY id DESC LIMIT " + COUNTED_JOBS + ") j GROUP BY status")) {
            bind(ps, tenant);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) byStatus.put(rs.getString("status"), rs.getLong("n"));
            }
        }
        List<Map<String, Object>> recent = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT id, kind, status, finish_reason, token_count, batch_id, created_at, first_token_at,
                       extract(epoch FROM coalesce(finished_at, clock_timestamp()) - first_token_at) AS decode_s
                FROM jobs WHERE model = ?""" + mine + " ORDER BY id DESC LIMIT ?")) {
            int i = bind(ps, tenant);
            ps.setInt(i, limit);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    int tokens = rs.getInt("token_count");
                    double decode = rs.getDouble("decode_s");
                    boolean timed = !rs.wasNull() && decode > 0 && tokens > 1;
                    Map<String, Object> j = new LinkedHashMap<>();
                    j.put("id", rs.getLong("id"));
                    j.put("kind", rs.getString("kind"));
                    j.put("status", rs.getString("status"));
                    j.put("finish_reason", rs.getString("finish_reason"));
                    j.put("token_count", tokens);
                    // As GET /v1/jobs/{id}: the decode rate after the first token.
                    j.put("tokens_per_second", timed ? (tokens - 1) / decode : null);
                    j.put("batch_id", rs.getString("batch_id"));
                    j.put("created_at", iso(rs.getTimestamp("created_at")));
                    recent.add(j);
                }
            }
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("counted", COUNTED_JOBS);
        m.put("by_status", byStatus);
        m.put("recent", recent);
        return m;
    }

    private List<Map<String, Object>> batches(Connection c, Tenant tenant, int limit) throws SQLException {
        List<Map<String, Object>> out = new ArrayList<>();
        if (limit == 0) return out;
        Map<String, Map<String, Object>> byId = new LinkedHashMap<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT id, status, total, invalid, created_at FROM batches"
                + (tenant.seesAll() ? "" : " WHERE owner = ?") + " ORDER BY created_at DESC, id DESC LIMIT ?")) {
            int i = 1;
            if (!tenant.seesAll()) ps.setString(i++, tenant.owner());
            ps.setInt(i, limit);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    Map<String, Object> b = new LinkedHashMap<>();
                    b.put("id", rs.getString("id"));
                    b.put("status", rs.getString("status"));
                    b.put("created_at", iso(rs.getTimestamp("created_at")));
                    b.put("total", rs.getLong("total"));
                    b.put("queued", 0L);
                    b.put("running", 0L);
                    b.put("completed", 0L);
                    // As OpenAI's request_counts.failed: failed, cancelled and rejected lines.
                    b.put("failed", rs.getLong("invalid"));
                    byId.put(rs.getString("id"), b);
                    out.add(b);
                }
            }
        }
        if (byId.isEmpty()) return out;
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT batch_id, status, count(*) AS n FROM jobs WHERE batch_id = ANY (?) GROUP BY batch_id, status")) {
            Array ids = c.createArrayOf("text", byId.keySet().toArray());
            ps.setArray(1, ids);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    Map<String, Object> b = byId.get(rs.getString("batch_id"));
                    String status = rs.getString("status");
                    String key = status.equals("cancelled") ? "failed" : status;
                    b.merge(key, rs.getLong("n"), (a, n) -> (Long) a + (Long) n);
                }
            }
        }
        return out;
    }

    private Map<String, Object> throughputView() {
        Throughput t = sampler.throughput();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("interval_s", 1);
        m.put("window_s", ThroughputSampler.SAMPLES - 1);
        m.put("tokens_per_second", t.recent(10_000));
        m.put("tokens_total", t.total());
        m.put("series", t.rates().stream().map(r -> List.of(r.epochMillis(), round(r.tokensPerSecond()))).toList());
        return m;
    }

    /** Binds the model and, for a tenant that sees only its own, the owner; returns the next parameter index. */
    private int bind(PreparedStatement ps, Tenant tenant) throws SQLException {
        ps.setString(1, model.id());
        if (tenant.seesAll()) return 2;
        ps.setString(2, tenant.owner());
        return 3;
    }

    private static double round(double v) {
        return Math.round(v * 10) / 10.0;
    }

    private static String iso(Timestamp t) {
        return t == null ? null : t.toInstant().toString();
    }
}
