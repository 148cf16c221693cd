package dev.bunshin.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bunshin.launcher.LocalStack;
import dev.bunshin.launcher.UpOptions;
import dev.bunshin.models.catalog.ModelCatalog;

import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * {@code ./bunshin bench priority MODEL [--workers 2] [--batch-lines 10000] [--batch-tokens 16] [--interactive 20]
 * [--every-ms 1000] [--tokens 8] [--json]}: how long a person waits behind a big batch (issue 10). The whole system
 * as {@code up} runs it first serves interactive jobs alone (their time to first token: dispatch plus their own
 * prefill), then takes a {@code --batch-lines} batch, and once the batch fills the pipeline, serves the same
 * interactive jobs again, one every {@code --every-ms}. Target: the p95 of their time to first token behind the batch
 * is at most one engine step of the busy pipeline (the median time between a batch job's consecutive tokens,
 * measured in the same window) plus their median time to first token alone. All times are the database's own
 * timestamps (created, started, first token), so the bench's polling does not enter them.
 */
final class PriorityBench {
    private PriorityBench() {}

    static final String PROMPT = "Once upon a time, there was a little girl named Lily who loved to play";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /** One interactive job's times, in milliseconds from its creation. */
    record Sample(long id, double queuedMs, double firstTokenMs) {}

    /** What the bench measured. */
    record Result(List<Sample> alone, List<Sample> behind, double stepMs, int batchRunning, int reserve) {
        double aloneTtft() {
            return BenchCommand.median(alone.stream().map(Sample::firstTokenMs).toList());
        }

        double behindP(double p) {
            return ClusterBench.percentile(behind.stream().map(Sample::firstTokenMs).toList(), p);
        }

        double queuedP(double p) {
            return ClusterBench.percentile(behind.stream().map(Sample::queuedMs).toList(), p);
        }

        double target() {
            return stepMs + aloneTtft();
        }

        boolean ok() {
            return behindP(95) <= target();
        }
    }

    static int run(String[] argv, PrintStream out, PrintStream err) throws Exception {
        Args a = Args.parse("bench priority", argv, ModelArgs.with("workers", "batch-lines", "batch-tokens",
                "interactive", "every-ms", "tokens"), Set.of("json"));
        String model = a.positional(0, "MODEL (a .gguf path or a model name)");
        a.noMorePositional(1);
        int workers = a.getInt("workers", 2, 1);
        int lines = a.getInt("batch-lines", 10_000, 1);
        int batchTokens = a.getInt("batch-tokens", 16, 1);
        int interactive = a.getInt("interactive", 20, 1);
        int everyMs = a.getInt("every-ms", 1000, 10);
        int tokens = a.getInt("tokens", 8, 1);
        ModelCatalog.Entry e = ModelArgs.resolve(a, model);
        String reserveEnv = System.getenv("BUNSHIN_SCHEDULER_INTERACTIVE_RESERVE");
        int reserve = reserveEnv != null ? Integer.parseInt(reserveEnv.strip()) : 32 / 8;
        err.printf(Locale.ROOT, "bench priority %s: %d workers, a %d-line batch of %d tokens, %d interactive jobs of %d "
                        + "tokens every %d ms; max-running 32, interactive reserve %d%s; cpu: %s%n", e.id(), workers, lines,
                batchTokens, interactive, tokens, everyMs, reserve,
                reserveEnv != null ? " (BUNSHIN_SCHEDULER_INTERACTIVE_RESERVE)" : " (default)", ClusterBench.cpuFlags());

        Path dataDir = ChaosBench.dataDir("bunshin-bench-priority");
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Result result;
        try (LocalStack stack = LocalStack.start(UpOptions.parse(new String[] {
                "--model", e.path().toString(), "--workers", Integer.toString(workers), "--threads", "1",
                "--port", Integer.toString(port), "--data-dir", dataDir.toString()}), err)) {
            String api = stack.apiUrl();
            submitAndWait(stack, api, tokens); // warm: the first job pays for class loading and JIT
            List<Sample> alone = new ArrayList<>();
            for (int i = 0; i < Math.min(interactive, 10); i++) alone.add(submitAndWait(stack, api, tokens));
            err.printf(Locale.ROOT, "alone: time to first token median %.0f ms%n",
                    BenchCommand.median(alone.stream().map(Sample::firstTokenMs).toList()));

            String batch = createBatch(api, e.id(), lines, batchTokens);
            int running = awaitBatchRunning(stack, batch, Duration.ofMinutes(5));
            err.printf("batch %s: %d of its jobs running; interactive jobs now%n", batch, running);
            Instant from = Instant.now();
            List<Long> ids = new ArrayList<>();
            for (int i = 0; i < interactive; i++) {
                ids.add(submit(api, tokens));
                Thread.sleep(everyMs);
            }
            List<Sample> behind = new ArrayList<>();
            for (long id : ids) behind.add(awaitFirstToken(stack, id, Duration.ofMinutes(5)));
            Instant to = Instant.now();
            int stillRunning = batchRunning(stack, batch);
            double step = stepMs(stack, batch, from, to);
            post(api + "/v1/batches/" + batch + "/cancel", "");
            result = new Result(alone, behind, step, Math.min(running, stillRunning), reserve);
        } finally {
            ChaosBench.deleteQuietly(dataDir);
        }
        print(result, a.flag("json"), out);
        return result.ok() ? 0 : 1;
    }

    private static String post(String url, String json) throws IOException, InterruptedException {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)).build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() / 100 != 2) throw new IOException("POST " + url + " answered " + r.statusCode() + ": " + r.body());
        return r.body();
    }

    private static long submit(String api, int tokens) throws IOException, InterruptedException {
        String body = JSON.writeValueAsString(Map.of("prompt", PROMPT, "max_tokens", tokens, "temperature", 0));
        return JSON.readTree(post(api + "/v1/jobs", body)).get("id").asLong();
    }

    /** Submits one interactive job on an otherwise idle system and waits until it ends. */
    private static Sample submitAndWait(LocalStack stack, String api, int tokens) throws Exception {
        long id = submit(api, tokens);
        Sample s = awaitFirstToken(stack, id, Duration.ofMinutes(5));
        long t0 = System.nanoTime();
        while (!List.of("completed", "failed", "cancelled").contains(status(stack, id))) {
            if (System.nanoTime() - t0 > Duration.ofMinutes(5).toNanos()) {
                throw new IllegalStateException("job " + id + " did not end within 5 minutes");
            }
            Thread.sleep(20);
        }
        return s;
    }

    private static String status(LocalStack stack, long id) throws SQLException {
        try (Connection c = ChaosBench.db(stack)) {
            return ChaosBench.status(c, id);
        }
    }

    /** Waits for the job's first token; its queue time and time to first token from the row's timestamps. */
    private static Sample awaitFirstToken(LocalStack stack, long id, Duration timeout) throws Exception {
        long t0 = System.nanoTime();
        while (System.nanoTime() - t0 < timeout.toNanos()) {
            try (Connection c = ChaosBench.db(stack); PreparedStatement ps = c.prepareStatement("""
                    SELECT status, extract(epoch FROM started_at - created_at) * 1000,
                           extract(epoch FROM first_token_at - created_at) * 1000 FROM jobs WHERE id = ?""")) {
                ps.setLong(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    if (rs.getObject(3) != null) return new Sample(id, rs.getDouble(2), rs.getDouble(3));
                    String status = rs.getString(1);
                    if (!status.equals("queued") && !status.equals("running")) {
                        throw new IllegalStateException("job " + id + " ended " + status + " without a token");
                    }
                }
            }
            Thread.sleep(20);
        }
        throw new IllegalStateException("job " + id + " had no token within " + timeout);
    }

    /** A batch of {@code lines} greedy completions (each its own prompt), through POST /v1/batches; its id. */
    private static String createBatch(String api, String model, int lines, int tokens) throws Exception {
        StringBuilder jsonl = new StringBuilder();
        for (int i = 0; i < lines; i++) {
            jsonl.append(JSON.writeValueAsString(Map.of("custom_id", "line-" + i, "method", "POST",
                    "url", "/v1/completions", "body", Map.of("model", model, "prompt", PROMPT + " " + i,
                            "max_tokens", tokens, "temperature", 0)))).append('\n');
        }
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(api + "/v1/batches"))
                .timeout(Duration.ofMinutes(5)).header("Content-Type", "application/jsonl")
                .POST(HttpRequest.BodyPublishers.ofString(jsonl.toString())).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() / 100 != 2) throw new IOException("POST /v1/batches answered " + r.statusCode() + ": " + r.body());
        JsonNode b = JSON.readTree(r.body());
        return b.get("id").asText();
    }

    private static int batchRunning(LocalStack stack, String batch) throws SQLException {
        try (Connection c = ChaosBench.db(stack); PreparedStatement ps = c.prepareStatement(
                "SELECT count(*) FROM jobs WHERE batch_id = ? AND status = 'running'")) {
            ps.setString(1, batch);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    /** Waits until the batch fills the pipeline: as many of its jobs running as for 2 s before. */
    private static int awaitBatchRunning(LocalStack stack, String batch, Duration timeout) throws Exception {
        long t0 = System.nanoTime();
        int last = -1;
        int steady = 0;
        while (System.nanoTime() - t0 < timeout.toNanos()) {
            int n = batchRunning(stack, batch);
            steady = n > 0 && n == last ? steady + 1 : 0;
            if (steady >= 10) return n;
            last = n;
            Thread.sleep(200);
        }
        throw new IllegalStateException("batch " + batch + " did not start running within " + timeout);
    }

    /** The median time between consecutive tokens of the batch's jobs committed in [from, to]: one engine step. */
    private static double stepMs(LocalStack stack, String batch, Instant from, Instant to) throws SQLException {
        try (Connection c = ChaosBench.db(stack); PreparedStatement ps = c.prepareStatement("""
                SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY d) FROM (
                    SELECT extract(epoch FROM t.created_at - lag(t.created_at) OVER (PARTITION BY t.job_id
                                                                               ORDER BY t.position)) * 1000 AS d
                      FROM job_tokens t JOIN jobs j ON j.id = t.job_id
                     WHERE j.batch_id = ? AND t.created_at BETWEEN ? AND ?) x
                 WHERE d IS NOT NULL""")) {
            ps.setString(1, batch);
            ps.setTimestamp(2, Timestamp.from(from));
            ps.setTimestamp(3, Timestamp.from(to));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                double v = rs.getDouble(1);
                return rs.wasNull() ? Double.NaN : v;
            }
        }
    }

    private static void print(Result r, boolean json, PrintStream out) {
        if (json) {
            out.printf(Locale.ROOT, "{\"alone_ttft_ms\":%.1f,\"behind_ttft_p50_ms\":%.1f,\"behind_ttft_p95_ms\":%.1f,"
                            + "\"queued_p50_ms\":%.1f,\"queued_p95_ms\":%.1f,\"step_ms\":%.1f,\"target_ms\":%.1f,"
                            + "\"batch_running\":%d,\"interactive_reserve\":%d,\"ok\":%b}%n", r.aloneTtft(), r.behindP(50),
                    r.behindP(95), r.queuedP(50), r.queuedP(95), r.stepMs(), r.target(), r.batchRunning(), r.reserve(),
                    r.ok());
            return;
        }
        List<String[]> t = new ArrayList<>();
        t.add(new String[] {"interactive jobs", "n", "queued p50 / p95 (ms)", "first token p50 / p95 (ms)"});
        t.add(new String[] {"alone", Integer.toString(r.alone().size()),
                fmt(ClusterBench.percentile(r.alone().stream().map(Sample::queuedMs).toList(), 50)) + " / "
                        + fmt(ClusterBench.percentile(r.alone().stream().map(Sample::queuedMs).toList(), 95)),
                fmt(r.aloneTtft()) + " / " + fmt(ClusterBench.percentile(r.alone().stream().map(Sample::firstTokenMs)
                        .toList(), 95))});
        t.add(new String[] {"behind the batch (" + r.batchRunning() + " of its jobs running)",
                Integer.toString(r.behind().size()), fmt(r.queuedP(50)) + " / " + fmt(r.queuedP(95)),
                fmt(r.behindP(50)) + " / " + fmt(r.behindP(95))});
        Table.print(t, out);
        out.printf(Locale.ROOT, "%none engine step behind the batch (median between a batch job's tokens): %.0f ms%n"
                        + "target: first token p95 behind the batch <= step + first token alone = %.0f + %.0f = %.0f ms: "
                        + "%.0f ms -> %s%n", r.stepMs(), r.stepMs(), r.aloneTtft(), r.target(), r.behindP(95),
                r.ok() ? "PASS" : "FAIL");
    }

    private static String fmt(double ms) {
        return String.format(Locale.ROOT, "%.0f", ms);
    }
}
