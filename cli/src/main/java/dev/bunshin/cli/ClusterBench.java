package dev.bunshin.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bunshin.models.catalog.ModelCatalog;
import dev.bunshin.models.catalog.ModelInfo;
import dev.bunshin.models.plan.ByteSize;
import dev.bunshin.launcher.LocalStack;
import dev.bunshin.launcher.MemoryCgroup;
import dev.bunshin.launcher.SimulatedHosts;
import dev.bunshin.launcher.UpOptions;

import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * {@code ./bunshin bench cluster MODEL --nodes N --cores-per-node C}: N simulated hosts on this machine — each
 * stage worker pinned to its own C cores, with {@code --link-delay}/{@code --link-rate} in its own network
 * namespace behind a shaped veth, with {@code --memory-cap} under a memory cgroup — against the best single node
 * (the whole model on one node of C cores, serving the same jobs batched), in one run. For each job count it
 * submits that many jobs at once and reports aggregate tok/s, per-job tok/s, time to first token p50/p95 and the
 * cluster ÷ single-node ratios; then each worker's peak RSS.
 */
final class ClusterBench {
    private ClusterBench() {}

    static final String USAGE = "bench cluster MODEL --nodes N --cores-per-node C [--link-delay MS] [--link-rate MBIT] "
            + "[--jobs 1,8,32] [--tokens 64] [--backend java|llama.cpp] [--memory-cap FRACTION|SIZE] [--share-cores] [--reps R] [--trace] [--json] [--plot FILE]";

    /** One measured row: a setup at one job count (medians over the reps). */
    record Row(String setup, int nodes, int jobs, long tokens, double seconds, double aggregate, double perJob,
               double ttftP50, double ttftP95) {}

    /** What the run measured, before formatting. */
    record Report(List<Row> single, List<Row> cluster, List<String> placement, List<long[]> workerMemory,
                  List<ClusterTrace.Hops> trace, List<Map<String, Double>> cpu) {
        /** cluster ÷ single node, aggregate tok/s, at the row with the most jobs. */
        double aggregateRatio() {
            return cluster.getLast().aggregate() / single.getLast().aggregate();
        }

        /** cluster ÷ single node, per-job tok/s with one job (NaN when 1 was not among the job counts). */
        double singleStreamRatio() {
            for (int i = 0; i < cluster.size(); i++) {
                if (cluster.get(i).jobs() == 1) return cluster.get(i).perJob() / single.get(i).perJob();
            }
            return Double.NaN;
        }

        /** cluster ÷ single node, time to first token p50, at the row with the most jobs. */
        double ttftRatio() {
            return cluster.getLast().ttftP50() / single.getLast().ttftP50();
        }
    }

    static int run(String[] argv, PrintStream out, PrintStream err) throws Exception {
        Args a = Args.parse("bench cluster", argv, ModelArgs.with("nodes", "cores-per-node", "link-delay", "link-rate",
                "jobs", "tokens", "backend", "memory-cap", "reps", "plot"), Set.of("json", "trace", "share-cores"));
        String model = a.positional(0, "MODEL (a .gguf path or a model name)");
        a.noMorePositional(1);
        int nodes = a.getInt("nodes", 2, 1);
        int cores = a.getInt("cores-per-node", 1, 1);
        double delay = a.getFloat("link-delay", 0, 0, 10_000);
        int rate = a.getInt("link-rate", 0, 0);
        int nTokens = a.getInt("tokens", 64, 2);
        int reps = a.getInt("reps", 1, 1);
        int[] jobCounts = PipelineBench.jobCounts(a.get("jobs", "1,8,32"));
        Arrays.sort(jobCounts);
        SingleNodeBaseline baseline = SingleNodeBaseline.forBackend(a.get("backend", "java"));
        Path plot = a.has("plot") ? Path.of(a.get("plot", null)) : null;
        ModelCatalog.Entry e = ModelArgs.resolve(a, model);
        ModelInfo info = ModelInfo.read(e.path());
        if (!info.runnable()) {
            throw new IllegalArgumentException("cannot run " + e.id() + ": " + info.unsupportedReason());
        }
        long cap = memoryCap(a.get("memory-cap", null), Files.size(e.path()));
        SimulatedHosts.Spec spec = new SimulatedHosts.Spec(nodes, cores, delay, rate, cap, a.flag("share-cores"));
        String missing = SimulatedHosts.unavailableReason(spec);
        if (missing != null) {
            // Refused before anything starts: nothing to clean up.
            throw new UsageException("bench cluster: cannot simulate " + nodes + " hosts here: " + missing);
        }
        err.printf("bench cluster %s: %d nodes x %d core(s); jobs %s of %d tokens; CPU %s%n", e.id(), nodes, cores,
                Arrays.toString(jobCounts), nTokens, cpuFlags());

        Report report = measure(e.path(), spec, baseline, jobCounts, nTokens, reps, a.flag("trace"), err);
        if (a.flag("json")) {
            out.println(json(e.id(), spec, nTokens, report));
        } else {
            table(out, e.id(), info, spec, nTokens, reps, report);
        }
        if (plot != null) {
            Files.writeString(plot, ClusterPlot.svg(e.id() + ": aggregate tok/s vs jobs in flight ("
                    + nodes + " nodes x " + cores + " core(s))", report.single(), report.cluster()));
            err.println("plot: " + plot);
        }
        return 0;
    }

    /** {@code 0.4} (a fraction of the model file), or a size like {@code 600M}; null: no cap. */
    static long memoryCap(String text, long modelBytes) {
        if (text == null) return 0;
        try {
            if (text.matches("[0-9.]+")) {
                double f = Double.parseDouble(text);
                if (f > 0 && f <= 1) return (long) (f * modelBytes);
                if (f > 1 && f == Math.rint(f)) return (long) f; // plain bytes
            } else {
                return ByteSize.parse(text);
            }
        } catch (IllegalArgumentException ignored) {
            // below
        }
        throw new UsageException("bench cluster: option --memory-cap: expected a fraction of the model file (0.4) or a size"
                + " (600M), got \"" + text + "\"");
    }

    private static Report measure(Path model, SimulatedHosts.Spec spec, SingleNodeBaseline baseline, int[] jobCounts,
                                  int nTokens, int reps, boolean trace, PrintStream err) throws Exception {
        Path dataDir = Files.createTempDirectory("bunshin-bench-cluster",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx--x--x")));
        int port = freePort();
        // Never the default 8081: another stack on this machine may take it between our check and our start.
        int schedulerPort = freePort();
        List<Row> cluster = new ArrayList<>();
        List<String> placement = new ArrayList<>();
        List<long[]> memory = new ArrayList<>(); // {peak RSS, cgroup peak, OOM kills} per worker
        List<ClusterTrace.Hops> hops = new ArrayList<>();
        List<Map<String, Double>> cpu = new ArrayList<>();
        try (SimulatedHosts hosts = SimulatedHosts.create(spec)) {
            placement.addAll(hosts.describe());
            placement.forEach(l -> err.println("placement: " + l));
            List<String> up = new ArrayList<>(List.of("--model", model.toString(), "--workers", Integer.toString(spec.nodes()),
                    "--threads", Integer.toString(spec.coresPerNode()), "--port", Integer.toString(port),
                    "--scheduler-port", Integer.toString(schedulerPort), "--backend", baseline.backend(),
                    "--data-dir", dataDir.toString()));
            if (hosts.bindAddress() != null) up.addAll(List.of("--bind", hosts.bindAddress()));
            try (LocalStack stack = LocalStack.start(UpOptions.parse(up.toArray(String[]::new)), err, hosts)) {
                err.println("logs: " + stack.logs());
                ServiceRounds client = new ServiceRounds(stack.apiUrl(), nTokens, "cluster");
                // Warm-up: JIT in every worker, topics, connections (the kernels are the same for every batch size).
                new ServiceRounds(stack.apiUrl(), SingleNodeRun.warmupTokens(nTokens), "warm-up")
                        .round(SingleNodeRun.warmupJobs(jobCounts), err);
                List<List<Long>> ids = new ArrayList<>();
                Map<String, Long> pids = new LinkedHashMap<>();
                for (int i = 0; i < spec.nodes(); i++) pids.put("worker-" + (i + 1), stack.pid("worker-" + (i + 1)));
                for (String name : List.of("kafka", "postgres", "scheduler", "submitter")) pids.put(name, stack.pid(name));
                for (int jobs : jobCounts) {
                    List<ServiceRounds.Round> rounds = new ArrayList<>();
                    Map<String, Double> before = cpuNow(pids);
                    for (int r = 0; r < reps; r++) rounds.add(client.round(jobs, err));
                    Map<String, Double> used = ProcessCpu.delta(before, cpuNow(pids));
                    used.replaceAll((k, v) -> v / reps);
                    cpu.add(used);
                    err.println("cpu: " + jobs + " jobs: " + cpuText(used));
                    cluster.add(clusterRow(spec.nodes(), rounds));
                    ids.add(rounds.stream().flatMap(r -> r.ids().stream()).toList());
                }
                if (trace) {
                    var sent = ClusterTrace.read(stack.bootstrapServers(), stack.modelId(), spec.nodes());
                    for (int j = 0; j < jobCounts.length; j++) {
                        ClusterTrace.Hops h = ClusterTrace.hops(sent, ids.get(j));
                        hops.add(h);
                        err.printf(Locale.ROOT, "trace: %d jobs, %d decode steps: step %.0f ms; per stage (median / p90 ms): %s%n",
                                jobCounts[j], h.steps(), h.stepMs(), hopText(h));
                    }
                }
                for (int i = 0; i < spec.nodes(); i++) {
                    MemoryCgroup cg = hosts.cgroup(i);
                    long[] m = {SimulatedHosts.peakRssBytes(stack.pid("worker-" + (i + 1))),
                            cg == null ? -1 : cg.peakBytes(), cg == null ? -1 : cg.oomKills()};
                    memory.add(m);
                    err.printf("worker-%d: peak RSS (VmHWM) %s%s%n", i + 1, mib(m[0]),
                            cg == null ? "" : ", cgroup peak " + mib(m[1]) + " of cap " + mib(cg.limitBytes())
                                    + ", OOM kills " + m[2]);
                }
            }
        }
        // Then the baseline, alone on the machine again, on node 1's cores. (The cluster first: a failure there
        // costs less time.)
        List<Integer> nodeCores = SimulatedHosts.coresOfFirstNode(spec);
        List<List<SingleNodeBaseline.Round>> singleReps = new ArrayList<>();
        long singlePeak = -1;
        for (int r = 0; r < reps; r++) {
            SingleNodeBaseline.Result res = baseline.measure(model, nodeCores, nTokens, jobCounts, err);
            singleReps.add(res.rounds());
            singlePeak = Math.max(singlePeak, res.peakRssBytes());
        }
        List<Row> single = new ArrayList<>();
        for (int j = 0; j < jobCounts.length; j++) {
            int jj = j;
            single.add(singleRow(singleReps.stream().map(x -> x.get(jj)).toList()));
        }

        placement.addFirst("single node: core(s) " + nodeCores + ", peak RSS " + mib(singlePeak));
        return new Report(single, cluster, placement, memory, hops, cpu);
    }

    /** CPU seconds so far of each process tree, and of this JVM alone (the bench's HTTP client) as "bench client". */
    private static Map<String, Double> cpuNow(Map<String, Long> pids) {
        Map<String, Double> m = ProcessCpu.snapshot(pids);
        m.put("bench client", ProcessCpu.ownSeconds(ProcessHandle.current().pid()));
        return m;
    }

    /** "worker-1 12.3 s, …; engines' share 83 %". */
    static String cpuText(Map<String, Double> used) {
        StringBuilder sb = new StringBuilder();
        double workers = 0;
        double all = 0;
        for (var e : used.entrySet()) {
            sb.append(sb.isEmpty() ? "" : ", ").append(e.getKey()).append(String.format(Locale.ROOT, " %.1f s", e.getValue()));
            if (e.getKey().startsWith("worker-")) workers += e.getValue();
            all += e.getValue();
        }
        return sb.append(String.format(Locale.ROOT, "; stage workers %.0f %% of the CPU used", all > 0 ? 100 * workers / all : 0))
                .toString();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static Row singleRow(List<SingleNodeBaseline.Round> reps) {
        SingleNodeBaseline.Round first = reps.getFirst();
        List<Double> ttft = reps.stream().flatMap(r -> r.ttftMs().stream()).toList();
        return new Row("single node", 1, first.jobs(), first.tokens(),
                BenchCommand.median(reps.stream().map(SingleNodeBaseline.Round::seconds).toList()),
                BenchCommand.median(reps.stream().map(SingleNodeBaseline.Round::aggregate).toList()),
                BenchCommand.median(reps.stream().map(SingleNodeBaseline.Round::perJob).toList()),
                percentile(ttft, 50), percentile(ttft, 95));
    }

    private static Row clusterRow(int nodes, List<ServiceRounds.Round> reps) {
        ServiceRounds.Round first = reps.getFirst();
        List<Double> ttft = reps.stream().flatMap(r -> r.ttftMs().stream()).toList();
        return new Row("cluster", nodes, first.jobs(), first.tokens(),
                BenchCommand.median(reps.stream().map(ServiceRounds.Round::seconds).toList()),
                BenchCommand.median(reps.stream().map(ServiceRounds.Round::aggregate).toList()),
                BenchCommand.median(reps.stream().flatMap(r -> r.endToEnd().stream()).toList()),
                percentile(ttft, 50), percentile(ttft, 95));
    }

    /** Nearest-rank percentile. */
    static double percentile(List<Double> xs, double p) {
        double[] a = xs.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        if (a.length == 0) return Double.NaN;
        int rank = (int) Math.ceil(p / 100 * a.length);
        return a[Math.max(0, Math.min(a.length - 1, rank - 1))];
    }

    private static void table(PrintStream out, String id, ModelInfo info, SimulatedHosts.Spec spec, int nTokens, int reps,
                              Report r) {
        out.printf("### %s (%s, %s) — %d nodes x %d core(s) vs 1 node of %d core(s)%s%n%n", id, info.architecture(),
                info.quantization(), spec.nodes(), spec.coresPerNode(), spec.coresPerNode(), links(spec));
        r.placement().forEach(l -> out.println("- " + l));
        out.println();
        out.println("| setup | jobs | tok/s, all jobs | tok/s per job (median) | TTFT p50 (ms) | TTFT p95 (ms) | cluster / single node |");
        out.println("|---|---:|---:|---:|---:|---:|---|");
        for (int i = 0; i < r.cluster().size(); i++) {
            Row s = r.single().get(i);
            Row c = r.cluster().get(i);
            out.printf(Locale.ROOT, "| 1 node | %d | %.1f | %.2f | %.0f | %.0f | |%n", s.jobs(), s.aggregate(), s.perJob(),
                    s.ttftP50(), s.ttftP95());
            out.printf(Locale.ROOT, "| %d nodes | %d | %.1f | %.2f | %.0f | %.0f | all %.2f×, per job %.2f×, TTFT p50 %.2f× |%n",
                    c.nodes(), c.jobs(), c.aggregate(), c.perJob(), c.ttftP50(), c.ttftP95(), c.aggregate() / s.aggregate(),
                    c.perJob() / s.perJob(), c.ttftP50() / s.ttftP50());
        }
        out.printf(Locale.ROOT, "%naggregate ratio (%d jobs) %.2f×, single-stream ratio %.2f×, TTFT p50 ratio (%d jobs) %.2f×%n",
                r.cluster().getLast().jobs(), r.aggregateRatio(), r.singleStreamRatio(), r.cluster().getLast().jobs(),
                r.ttftRatio());
        for (int i = 0; i < r.workerMemory().size(); i++) {
            long[] m = r.workerMemory().get(i);
            out.printf("worker-%d peak RSS (VmHWM) %s%s%n", i + 1, mib(m[0]), m[1] < 0 ? "" : ", cgroup peak " + mib(m[1])
                    + " of cap " + mib(spec.memoryCapBytes()) + ", OOM kills " + m[2]);
        }
        for (int i = 0; i < r.cpu().size(); i++) {
            out.printf(Locale.ROOT, "CPU seconds per round, %d jobs: %s%n", r.cluster().get(i).jobs(), cpuText(r.cpu().get(i)));
        }
        for (int i = 0; i < r.trace().size(); i++) {
            ClusterTrace.Hops h = r.trace().get(i);
            out.printf(Locale.ROOT, "trace, %d jobs: one decode step %.0f ms (median of %d); per stage, from the record sent to "
                    + "it to its output sent (median / p90 ms): %s%n", r.cluster().get(i).jobs(), h.stepMs(), h.steps(), hopText(h));
        }
        out.printf("%n%d tokens per job, greedy, distinct prompts; all jobs of a row submitted at once; %d rep(s) per row, "
                + "medians; one warm-up round first on each side (the largest row's jobs, up to 32 tokens each). Cluster rows: server timestamps from the first job's "
                + "creation to the last one's end; single node: one JVM on one node's cores, prompts prefilled in turn, "
                + "then one batched decode step for all jobs at a time. CPU: %s%n", nTokens, reps, cpuFlags());
    }

    private static String json(String id, SimulatedHosts.Spec spec, int nTokens, Report r) {
        ObjectMapper m = new ObjectMapper();
        ObjectNode o = m.createObjectNode();
        o.put("model", id);
        o.put("nodes", spec.nodes());
        o.put("cores_per_node", spec.coresPerNode());
        o.put("link_delay_ms", spec.linkDelayMs());
        o.put("link_rate_mbit", spec.linkRateMbit());
        o.put("memory_cap_bytes", spec.memoryCapBytes());
        o.put("share_cores", spec.shareCores());
        o.put("tokens", nTokens);
        putRatio(o, "aggregate_ratio", r.aggregateRatio());
        putRatio(o, "single_stream_ratio", r.singleStreamRatio());
        putRatio(o, "ttft_ratio", r.ttftRatio());
        ArrayNode rows = o.putArray("rows");
        for (int i = 0; i < r.cluster().size(); i++) {
            for (Row row : List.of(r.single().get(i), r.cluster().get(i))) {
                ObjectNode x = rows.addObject();
                x.put("setup", row.setup());
                x.put("nodes", row.nodes());
                x.put("jobs", row.jobs());
                x.put("tokens", row.tokens());
                x.put("seconds", row.seconds());
                x.put("aggregate_tok_s", row.aggregate());
                x.put("per_job_tok_s", row.perJob());
                x.put("ttft_p50_ms", row.ttftP50());
                x.put("ttft_p95_ms", row.ttftP95());
            }
        }
        ArrayNode cpu = o.putArray("cpu_seconds");
        for (int i = 0; i < r.cpu().size(); i++) {
            ObjectNode c = cpu.addObject().put("jobs", r.cluster().get(i).jobs());
            r.cpu().get(i).forEach((k, v) -> c.put(k, Math.round(v * 100) / 100.0));
        }
        ArrayNode workers = o.putArray("workers");
        for (int i = 0; i < r.workerMemory().size(); i++) {
            long[] w = r.workerMemory().get(i);
            workers.addObject().put("name", "worker-" + (i + 1)).put("peak_rss_bytes", w[0]).put("cgroup_peak_bytes", w[1])
                    .put("oom_kills", w[2]);
        }
        if (!r.trace().isEmpty()) {
            ArrayNode trace = o.putArray("trace");
            for (int i = 0; i < r.trace().size(); i++) {
                ClusterTrace.Hops h = r.trace().get(i);
                ObjectNode t = trace.addObject().put("jobs", r.cluster().get(i).jobs()).put("decode_steps", h.steps())
                        .put("step_ms", h.stepMs());
                ArrayNode med = t.putArray("stage_ms");
                ArrayNode p90 = t.putArray("stage_p90_ms");
                for (int k = 0; k < h.hopMs().length; k++) {
                    med.add(h.hopMs()[k]);
                    p90.add(h.hopP90()[k]);
                }
            }
        }
        ArrayNode where = o.putArray("placement");
        r.placement().forEach(where::add);
        o.put("cpu_flags", cpuFlags());
        return o.toString();
    }

    private static String hopText(ClusterTrace.Hops h) {
        StringBuilder sb = new StringBuilder();
        for (int k = 0; k < h.hopMs().length; k++) {
            sb.append(k == 0 ? "" : ", ").append(k == h.hopMs().length - 1 ? "stage " + k + " (tail, back to stage 0)" : "stage " + k)
                    .append(String.format(Locale.ROOT, " %.0f / %.0f", h.hopMs()[k], h.hopP90()[k]));
        }
        return sb.toString();
    }

    private static void putRatio(ObjectNode o, String key, double v) {
        if (Double.isNaN(v)) o.putNull(key);
        else o.put(key, Math.round(v * 1000) / 1000.0);
    }

    private static String links(SimulatedHosts.Spec spec) {
        if (!spec.shapedLinks()) return ", loopback";
        return String.format(Locale.ROOT, ", links: %s%s", spec.linkDelayMs() > 0 ? spec.linkDelayMs() + " ms " : "",
                spec.linkRateMbit() > 0 ? spec.linkRateMbit() + " Mbit/s" : "");
    }

    private static String mib(long bytes) {
        return bytes < 0 ? "unknown" : (bytes >> 20) + " MiB";
    }

    /** {@code grep -o -w 'avx2\|avx512[a-z_]*' /proc/cpuinfo | sort -u}, on one line. */
    static String cpuFlags() {
        Set<String> flags = new TreeSet<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (!line.startsWith("flags")) continue;
                for (String f : line.substring(line.indexOf(':') + 1).trim().split("\\s+")) {
                    if (f.equals("avx2") || f.startsWith("avx512")) flags.add(f);
                }
            }
        } catch (IOException e) {
            return "unknown";
        }
        return flags.isEmpty() ? "no avx2/avx512" : String.join(" ", flags);
    }
}
