package dev.bunshin.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bunshin.models.plan.ByteSize;

import java.io.IOException;
import java.io.PrintStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * {@code ./bunshin status [--url URL] [--api-key KEY] [--jobs N]}: what a running Bunshin is doing, from the
 * submitter's {@code GET /v1/cluster} (the dashboard's data): its workers, the stage plan drawn as a bar of layers,
 * the queue, recent jobs and batches, and the token rate. Exit status: 0 shown, 2 bad command line, 3 the submitter
 * could not be reached or refused the request.
 */
final class StatusCommand {

    static final String DEFAULT_URL = "http://127.0.0.1:8080"; // what ./bunshin up serves (up --port)
    static final int BAR = 40;

    private static final ObjectMapper JSON = new ObjectMapper();

    private StatusCommand() {}

    static int run(String[] argv, PrintStream out, PrintStream err) throws InterruptedException {
        Args args = Args.parse("status", argv, Set.of("url", "api-key", "jobs"), Set.of("help"));
        if (args.flag("help")) {
            out.print("""
                    usage: ./bunshin status [--url http://127.0.0.1:8080] [--api-key KEY] [--jobs 5]
                      --url      the submitter (default http://127.0.0.1:8080, where ./bunshin up serves it)
                      --api-key  sent as 'Authorization: Bearer KEY' (default: $BUNSHIN_API_KEY)
                      --jobs     recent jobs to list (default 5)
                    """);
            return 0;
        }
        args.noMorePositional(0);
        String base = baseUrl(args.get("url", DEFAULT_URL));
        int jobs = args.getInt("jobs", 5, 1);
        if (jobs > 200) throw new UsageException("status: option --jobs must be <= 200, got " + jobs);
        String key = args.get("api-key", System.getenv("BUNSHIN_API_KEY"));

        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + "/v1/cluster?jobs=" + jobs))
                .timeout(Duration.ofSeconds(15)).GET();
        if (key != null && !key.isBlank()) request.header("Authorization", "Bearer " + key.strip());
        HttpResponse<String> response;
        try {
            response = http.send(request.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (ConnectException | HttpConnectTimeoutException e) {
            err.println("status: cannot reach the submitter at " + base + " (is ./bunshin up running? --url sets it)");
            return 3;
        } catch (IOException e) {
            err.println("status: " + base + ": " + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage())
                    + " (--url sets the submitter)");
            return 3;
        }
        if (response.statusCode() == 401) {
            err.println("status: " + base + " needs an API key: " + errorMessage(response.body())
                    + " (--api-key KEY or $BUNSHIN_API_KEY)");
            return 3;
        }
        if (response.statusCode() != 200) {
            err.println("status: GET " + base + "/v1/cluster: HTTP " + response.statusCode() + ": "
                    + errorMessage(response.body()) + " (is --url a Bunshin submitter?)");
            return 3;
        }
        JsonNode cluster;
        try {
            cluster = JSON.readTree(response.body());
        } catch (IOException e) {
            err.println("status: " + base + "/v1/cluster did not answer JSON (is --url a Bunshin submitter?)");
            return 3;
        }
        print(cluster, out);
        return 0;
    }

    /** {@code --url} without a trailing slash; a usage error naming the option unless it is an http(s) URL. */
    static String baseUrl(String url) {
        try {
            URI u = new URI(url);
            if (!("http".equals(u.getScheme()) || "https".equals(u.getScheme())) || u.getHost() == null) {
                throw new URISyntaxException(url, "not an http:// or https:// URL with a host");
            }
        } catch (URISyntaxException e) {
            throw new UsageException("status: option --url needs an http(s) URL such as " + DEFAULT_URL + ", got \""
                    + url + "\"");
        }
        return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    }

    static void print(JsonNode c, PrintStream out) {
        JsonNode model = c.get("model");
        JsonNode plan = c.get("plan");
        int layers = model.path("layers").asInt();
        out.println("model " + model.path("id").asText() + " (" + model.path("architecture").asText() + ", " + layers
                + " layers)" + (plan.isNull() ? ", no plan yet" : ", plan epoch " + plan.path("epoch").asInt()
                + ", context " + plan.path("context_length").asInt()));

        out.println();
        List<String[]> workers = new ArrayList<>();
        workers.add(new String[]{"WORKER", "HOST", "STATUS", "BACKEND", "WEIGHTS/MEMORY", "SPEED", "HEARTBEAT", "LAYERS",
                "DEVICE"});
        for (JsonNode w : c.get("workers")) {
            workers.add(new String[]{w.path("id").asText(), w.path("host").asText(),
                    w.path("status").asText() + (w.path("load_error").isNull() ? "" : " (load error)"),
                    w.path("backend").asText(),
                    bytes(w.get("stage_weights_bytes")) + " / " + bytes(w.get("memory_bytes")),
                    String.format(Locale.ROOT, "%.1f GFLOP/s", w.path("speed_gflops").asDouble()),
                    String.format(Locale.ROOT, "%.1f s ago", w.path("heartbeat_age_ms").asLong() / 1000.0),
                    w.path("layers").isArray() ? "[" + w.at("/layers/0").asInt() + ", " + w.at("/layers/1").asInt() + ")" : "-",
                    w.path("device").isNull() ? "-" : w.path("device").asText()});
        }
        if (workers.size() == 1) {
            out.println("no workers registered");
        } else {
            Table.print(workers, out);
        }

        if (!plan.isNull()) {
            out.println();
            List<String[]> stages = new ArrayList<>();
            String end = String.valueOf(layers); // the scale spans the bar, its '|'s included
            stages.add(new String[]{"STAGE", "WORKER", "LAYERS", "0" + " ".repeat(Math.max(1, BAR + 1 - end.length())) + end});
            for (JsonNode s : plan.get("stages")) {
                int a = s.path("layer_start").asInt(), b = s.path("layer_end").asInt();
                stages.add(new String[]{s.path("stage").asText(), s.path("worker_id").asText(),
                        "[" + a + ", " + b + ")", "|" + bar(a, b, layers) + "|"});
            }
            Table.print(stages, out);
        }

        out.println();
        JsonNode q = c.get("queue");
        JsonNode by = c.at("/jobs/by_status");
        out.println("queue: " + q.path("queued").asLong() + " queued, " + q.path("running").asLong() + " running"
                + "   (newest " + c.at("/jobs/counted").asInt() + " jobs: " + by.path("completed").asLong()
                + " completed, " + by.path("failed").asLong() + " failed, " + by.path("cancelled").asLong() + " cancelled)");
        JsonNode t = c.get("throughput");
        out.println(String.format(Locale.ROOT, "rate: %.1f tokens/s over the last 10 s, %.1f over the last minute, "
                + "%.1f over the last %d min", t.path("tokens_per_second").asDouble(), average(t, 60),
                average(t, t.path("window_s").asInt()), t.path("window_s").asInt() / 60));

        JsonNode recent = c.at("/jobs/recent");
        if (!recent.isEmpty()) {
            out.println();
            List<String[]> rows = new ArrayList<>();
            rows.add(new String[]{"JOB", "KIND", "STATUS", "TOKENS", "TOK/S", "CREATED"});
            for (JsonNode j : recent) {
                rows.add(new String[]{j.path("id").asText(), j.path("kind").asText(),
                        j.path("status").asText() + (j.path("finish_reason").isNull() ? "" : " (" + j.path("finish_reason").asText() + ")"),
                        j.path("token_count").asText(),
                        j.path("tokens_per_second").isNull() ? "-"
                                : String.format(Locale.ROOT, "%.1f", j.path("tokens_per_second").asDouble()),
                        j.path("created_at").asText()});
            }
            Table.print(rows, out);
        }
        JsonNode batches = c.get("batches");
        if (batches != null && !batches.isEmpty()) {
            out.println();
            List<String[]> rows = new ArrayList<>();
            rows.add(new String[]{"BATCH", "STATUS", "COMPLETED", "FAILED", "TOTAL"});
            for (JsonNode b : batches) {
                rows.add(new String[]{b.path("id").asText(), b.path("status").asText(), b.path("completed").asText(),
                        b.path("failed").asText(), b.path("total").asText()});
            }
            Table.print(rows, out);
        }
    }

    /** Layers [a, b) of {@code layers} as '#' within a {@value #BAR}-character bar of '.'. */
    static String bar(int a, int b, int layers) {
        int from = layers == 0 ? 0 : Math.round((float) a * BAR / layers);
        int to = layers == 0 ? 0 : Math.max(from + 1, Math.round((float) b * BAR / layers));
        to = Math.min(to, BAR);
        return ".".repeat(from) + "#".repeat(to - from) + ".".repeat(BAR - to);
    }

    /** Mean tokens/s of the series' last {@code seconds}: the rates are per interval, so the mean of equal intervals. */
    private static double average(JsonNode throughput, int seconds) {
        JsonNode series = throughput.path("series");
        if (series.isEmpty()) return 0;
        long newest = series.get(series.size() - 1).get(0).asLong();
        double sum = 0;
        int n = 0;
        for (JsonNode p : series) {
            if (newest - p.get(0).asLong() < seconds * 1000L) {
                sum += p.get(1).asDouble();
                n++;
            }
        }
        return n == 0 ? 0 : sum / n;
    }

    private static String bytes(JsonNode n) {
        return n == null || n.isNull() ? "-" : ByteSize.format(n.asLong());
    }

    private static String errorMessage(String body) {
        try {
            JsonNode e = JSON.readTree(body).path("error");
            return e.isTextual() ? e.asText() : e.path("message").asText(body);
        } catch (IOException e) {
            return body.length() > 200 ? body.substring(0, 200) + "…" : body;
        }
    }
}
