package dev.bunshin.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bunshin.launcher.LocalPostgres;
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
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code ./bunshin bench chaos MODEL [--workers 2] [--seconds 180] [--kill-every 20] [--rate 1] [--tokens 48]
 * [--targets worker,scheduler,submitter,kafka,postgres] [--seed S] [--json]}: a soak under faults. The whole system
 * as {@code up} runs it (supervised) serves a steady stream of greedy jobs with one prompt while, every
 * {@code --kill-every} seconds, a random process of the stack gets kill -9 (each kind in {@code --targets} once per
 * round, in a random order). Afterwards every job must have completed
 * with the undisturbed job's exact tokens (the Java engine is batch-invariant), positions 0..n-1 once each; and the
 * stack's processes must be gone after it stops. Prints, per kind of process killed, how long the cluster took to
 * commit its next token (the recovery time), and exits 1 if any job was lost, failed or differs.
 */
final class ChaosBench {
    private ChaosBench() {}

    static final String PROMPT = "Once upon a time, there was a little girl named Lily who loved to play";
    static final List<String> TARGETS = List.of("worker", "scheduler", "submitter", "kafka", "postgres");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /** One kill -9 and how long until the cluster committed its next token. */
    record Kill(String target, long pid, double atSeconds, double recoverySeconds) {}

    static int run(String[] argv, PrintStream out, PrintStream err) throws Exception {
        Args a = Args.parse("bench chaos", argv, ModelArgs.with("workers", "seconds", "kill-every", "rate", "tokens",
                "targets", "seed"), Set.of("json"));
        String model = a.positional(0, "MODEL (a .gguf path or a model name)");
        a.noMorePositional(1);
        int workers = a.getInt("workers", 2, 1);
        int seconds = a.getInt("seconds", 180, 5);
        int killEvery = a.getInt("kill-every", 20, 2);
        double rate = a.getFloat("rate", 1f, 0.05f, 50f);
        int tokens = a.getInt("tokens", 48, 2);
        long seed = a.getLong("seed", System.nanoTime());
        List<String> targets = Arrays.stream(a.get("targets", String.join(",", TARGETS)).split(","))
                .map(String::strip).toList();
        for (String t : targets) {
            if (!TARGETS.contains(t)) {
                throw new UsageException("bench chaos: option --targets: unknown process \"" + t + "\" (one of "
                        + String.join(", ", TARGETS) + ")");
            }
        }
        ModelCatalog.Entry e = ModelArgs.resolve(a, model);
        err.printf(Locale.ROOT, "bench chaos %s: %d workers, %d s, kill -9 every %d s among %s, %.2f jobs/s of %d "
                + "tokens, seed %d; cpu: %s%n", e.id(), workers, seconds, killEvery, targets, rate, tokens, seed,
                ClusterBench.cpuFlags());

        Path dataDir = dataDir("bunshin-bench-chaos");
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        List<Long> ids = new CopyOnWriteArrayList<>();
        List<Kill> kills = new CopyOnWriteArrayList<>();
        List<Long> stackPids = new ArrayList<>();
        // Only what the stack started counts: whoever runs the bench in-process (a test) may have children of its own.
        Set<Long> ours = new java.util.HashSet<>();
        ProcessHandle.current().descendants().forEach(h -> ours.add(h.pid()));
        Result result;
        try (LocalStack stack = LocalStack.start(UpOptions.parse(new String[] {
                "--model", e.path().toString(), "--workers", Integer.toString(workers), "--threads", "1",
                "--port", Integer.toString(port), "--data-dir", dataDir.toString(), "--max-restarts", "1000"}), err)) {
            String api = stack.apiUrl();
            // The undisturbed run: what every job must give.
            long refId = submit(api, tokens);
            List<Integer> reference = awaitTokens(stack, refId, Duration.ofMinutes(5));
            err.printf("reference job %d: %d tokens%n", refId, reference.size());

            AtomicBoolean running = new AtomicBoolean(true);
            Thread supervisor = Thread.ofPlatform().name("chaos-supervise").start(() -> {
                while (running.get()) {
                    String giveUp = stack.supervise();
                    if (giveUp != null) {
                        err.println("bench chaos: the stack gave up: " + giveUp);
                        running.set(false);
                    }
                    sleep(300);
                }
            });
            Thread submitter = Thread.ofPlatform().name("chaos-submit").start(() -> {
                long interval = (long) (1000 / rate);
                while (running.get()) {
                    try {
                        ids.add(submit(api, tokens));
                    } catch (IOException | RuntimeException ex) {
                        // the submitter (or its database) is down: the job was not accepted; try the next one
                    } catch (InterruptedException ex) {
                        return;
                    }
                    sleep(interval);
                }
            });
            Random random = new Random(seed);
            List<String> deck = new ArrayList<>();
            long t0 = System.nanoTime();
            while (running.get() && System.nanoTime() - t0 < seconds * 1_000_000_000L) {
                sleep(killEvery * 1000L);
                if (!running.get() || System.nanoTime() - t0 >= seconds * 1_000_000_000L) break;
                if (deck.isEmpty()) { // each kind of process once per round, in a random order
                    deck.addAll(targets);
                    java.util.Collections.shuffle(deck, random);
                }
                String target = deck.removeFirst();
                String name = target.equals("worker") ? "worker-" + (1 + random.nextInt(workers)) : target;
                long pid = stack.pid(name);
                // Not running (still being restarted after an earlier kill): the next kind at the next turn.
                if (pid <= 0 || ProcessHandle.of(pid).map(h -> !h.isAlive()).orElse(true)) continue;
                long before = committed(stack);
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
                double at = (System.nanoTime() - t0) / 1e9;
                double recovery = awaitNextToken(stack, before, Duration.ofSeconds(300));
                kills.add(new Kill(name, pid, at, recovery));
                err.printf(Locale.ROOT, "  %6.1f s  kill -9 %-10s (pid %d): next token after %s%n", at, name, pid,
                        Double.isNaN(recovery) ? "none within 300 s" : String.format(Locale.ROOT, "%.1f s", recovery));
            }
            running.set(false);
            submitter.interrupt();
            submitter.join(10_000);
            supervisor.join(10_000);
            // Let the stack finish what it accepted (supervised still: a late death is restarted).
            Thread finisher = Thread.ofPlatform().name("chaos-finish").start(() -> {
                while (!Thread.currentThread().isInterrupted()) {
                    stack.supervise();
                    if (!sleep(300)) return;
                }
            });
            // Every job after the reference, also one whose 202 was lost with a killed submitter.
            List<Long> accepted = jobsAfter(stack, refId, ids);
            result = check(stack, accepted, reference, Duration.ofMinutes(10), err);
            finisher.interrupt();
            finisher.join(10_000);
            ProcessHandle.current().descendants().filter(h -> !ours.contains(h.pid())).forEach(h -> stackPids.add(h.pid()));
        } finally {
            deleteQuietly(dataDir);
        }
        List<Long> orphans = stackPids.stream().filter(p -> ProcessHandle.of(p).map(ProcessHandle::isAlive)
                .orElse(false)).toList();
        print(result, kills, orphans, a.flag("json"), out);
        return result.ok() && orphans.isEmpty() ? 0 : 1;
    }

    /** What the jobs came to. */
    record Result(int jobs, int completed, int failed, int other, int differing, int badPositions, double seconds,
                  List<String> problems) {
        boolean ok() {
            return completed == jobs && problems.isEmpty();
        }
    }

    private static long submit(String api, int tokens) throws IOException, InterruptedException {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(api + "/v1/jobs"))
                .timeout(Duration.ofSeconds(10)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(Map.of("prompt", PROMPT,
                        "max_tokens", tokens, "temperature", 0)))).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 202) throw new IOException("POST /v1/jobs answered " + r.statusCode() + ": " + r.body());
        JsonNode o = JSON.readTree(r.body());
        return o.get("id").asLong();
    }

    /** A connection to the stack's database, as its apps log in (shared by the benches that run a stack). */
    static Connection db(LocalStack stack) throws SQLException {
        return DriverManager.getConnection(stack.jdbcUrl(), LocalPostgres.USER, LocalPostgres.PASSWORD);
    }

    /** Tokens committed so far by every job (-1 while the database is away). */
    private static long committed(LocalStack stack) {
        try (Connection c = db(stack); var st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT coalesce(sum(token_count), 0) FROM jobs")) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            return -1;
        }
    }

    /** Seconds until the cluster has committed more than {@code before} tokens, or NaN. */
    private static double awaitNextToken(LocalStack stack, long before, Duration timeout) {
        long t0 = System.nanoTime();
        while (System.nanoTime() - t0 < timeout.toNanos()) {
            long now = committed(stack);
            if (now > before) return (System.nanoTime() - t0) / 1e9;
            sleep(100);
        }
        return Double.NaN;
    }

    private static List<Integer> awaitTokens(LocalStack stack, long id, Duration timeout) throws Exception {
        long t0 = System.nanoTime();
        while (System.nanoTime() - t0 < timeout.toNanos()) {
            try (Connection c = db(stack)) {
                String status = status(c, id);
                if ("completed".equals(status)) return tokens(c, id);
                if (status != null && !status.equals("queued") && !status.equals("running")) {
                    throw new IllegalStateException("the reference job " + id + " ended " + status);
                }
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("the reference job " + id + " did not complete within " + timeout);
    }

    /** The ids of the jobs created after {@code refId} (waiting for the database if it is away). */
    private static List<Long> jobsAfter(LocalStack stack, long refId, List<Long> submitted) throws InterruptedException {
        for (int attempt = 0; attempt < 600; attempt++) {
            try (Connection c = db(stack);
                 PreparedStatement ps = c.prepareStatement("SELECT id FROM jobs WHERE id > ? ORDER BY id")) {
                ps.setLong(1, refId);
                List<Long> ids = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) ids.add(rs.getLong(1));
                }
                if (!ids.containsAll(submitted)) throw new IllegalStateException("accepted jobs missing from the database");
                return ids;
            } catch (SQLException e) {
                Thread.sleep(500);
            }
        }
        throw new IllegalStateException("the database did not come back within 5 minutes");
    }

    /** The job's status, or null if there is no such job. */
    static String status(Connection c, long id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT status FROM jobs WHERE id = ?")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    /** The job's token ids in position order; a missing or repeated position makes the list wrong on purpose. */
    private static List<Integer> tokens(Connection c, long id) throws SQLException {
        List<Integer> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT position, token_id FROM job_tokens WHERE job_id = ? ORDER BY position")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    if (rs.getInt(1) != out.size()) out.add(-1); // a gap or a repeat: cannot match the reference
                    out.add(rs.getInt(2));
                }
            }
        }
        return out;
    }

    /** Waits for every accepted job to end, then compares each with the reference. */
    private static Result check(LocalStack stack, List<Long> ids, List<Integer> reference, Duration timeout,
                                PrintStream err) throws Exception {
        long t0 = System.nanoTime();
        Map<Long, String> statuses = new TreeMap<>();
        while (true) {
            statuses.clear();
            try (Connection c = db(stack)) {
                for (long id : ids) statuses.put(id, status(c, id));
            } catch (SQLException e) {
                // the database is coming back
            }
            boolean done = statuses.size() == ids.size() && statuses.values().stream()
                    .allMatch(s -> s != null && !s.equals("queued") && !s.equals("running"));
            if (done) break;
            if (System.nanoTime() - t0 > timeout.toNanos()) {
                err.println("bench chaos: jobs still unfinished after " + timeout);
                break;
            }
            Thread.sleep(500);
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        int completed = 0, failed = 0, other = 0, differing = 0, badPositions = 0;
        List<String> problems = new ArrayList<>();
        try (Connection c = db(stack)) {
            for (long id : ids) {
                String s = statuses.get(id);
                if ("completed".equals(s)) {
                    completed++;
                    List<Integer> got = tokens(c, id);
                    if (got.contains(-1)) {
                        badPositions++;
                        problems.add("job " + id + ": a missing or repeated position");
                    } else if (!got.equals(reference)) {
                        differing++;
                        problems.add("job " + id + ": tokens differ from the undisturbed run");
                    }
                } else if ("failed".equals(s)) {
                    failed++;
                    problems.add("job " + id + " failed: " + error(c, id));
                } else {
                    other++;
                    problems.add("job " + id + " ended " + s);
                }
            }
        }
        return new Result(ids.size(), completed, failed, other, differing, badPositions, seconds, problems);
    }

    private static String error(Connection c, long id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT error FROM jobs WHERE id = ?")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    private static void print(Result r, List<Kill> kills, List<Long> orphans, boolean json, PrintStream out) {
        Map<String, List<Double>> byKind = new LinkedHashMap<>();
        for (Kill k : kills) {
            String kind = k.target().startsWith("worker-") ? "worker" : k.target();
            byKind.computeIfAbsent(kind, x -> new ArrayList<>()).add(k.recoverySeconds());
        }
        if (json) {
            StringBuilder sb = new StringBuilder();
            sb.append(String.format(Locale.ROOT, "{\"jobs\":%d,\"completed\":%d,\"failed\":%d,\"other\":%d,"
                            + "\"differing\":%d,\"bad_positions\":%d,\"orphans\":%d,\"kills\":[", r.jobs(), r.completed(),
                    r.failed(), r.other(), r.differing(), r.badPositions(), orphans.size()));
            for (int i = 0; i < kills.size(); i++) {
                Kill k = kills.get(i);
                if (i > 0) sb.append(',');
                sb.append(String.format(Locale.ROOT, "{\"target\":\"%s\",\"at_s\":%.1f,\"recovery_s\":%s}", k.target(),
                        k.atSeconds(), Double.isNaN(k.recoverySeconds()) ? "null"
                                : String.format(Locale.ROOT, "%.2f", k.recoverySeconds())));
            }
            out.println(sb.append("]}"));
            return;
        }
        List<String[]> t = new ArrayList<>();
        t.add(new String[] {"killed", "times", "next token after, median", "max"});
        byKind.forEach((kind, rs) -> {
            double[] v = rs.stream().mapToDouble(Double::doubleValue).filter(x -> !Double.isNaN(x)).sorted().toArray();
            long lost = rs.stream().filter(x -> x.isNaN()).count();
            t.add(new String[] {kind, Integer.toString(rs.size()),
                    v.length == 0 ? "–" : String.format(Locale.ROOT, "%.1f s", v[v.length / 2]),
                    (v.length == 0 ? "–" : String.format(Locale.ROOT, "%.1f s", v[v.length - 1]))
                            + (lost > 0 ? " (" + lost + " never)" : "")});
        });
        Table.print(t, out);
        out.printf("%njobs accepted %d: completed with the undisturbed tokens %d, failed %d, other %d, differing %d, "
                        + "missing or repeated positions %d; processes left after the stop: %d%n", r.jobs(),
                r.completed() - r.differing() - r.badPositions(), r.failed(), r.other(), r.differing(), r.badPositions(),
                orphans.size());
        for (String p : r.problems().subList(0, Math.min(20, r.problems().size()))) out.println("  " + p);
        out.println(r.ok() && orphans.isEmpty() ? "PASS" : "FAIL");
    }

    private static boolean sleep(long ms) {
        try {
            Thread.sleep(ms);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** A temporary data directory PostgreSQL's own user may pass through (it runs as another user under root). */
    static Path dataDir(String prefix) throws IOException {
        return Files.createTempDirectory(prefix,
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx--x--x")));
    }

    static void deleteQuietly(Path dir) {
        try (var s = Files.walk(dir)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | RuntimeException ignored) {
            // a temp dir
        }
    }
}
