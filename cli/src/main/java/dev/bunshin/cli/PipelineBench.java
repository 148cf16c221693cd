package dev.bunshin.cli;

import dev.bunshin.engine.EngineOptions;
import dev.bunshin.engine.Generator;
import dev.bunshin.models.catalog.ModelCatalog;
import dev.bunshin.models.catalog.ModelInfo;
import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.launcher.LocalStack;
import dev.bunshin.launcher.UpOptions;

import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * {@code ./bunshin bench pipeline MODEL}: the whole service on this machine — real Kafka, real PostgreSQL, the
 * scheduler, the submitter and W stage workers as processes — against the single-process baselines on the same
 * file with the same total threads, in one run: llama.cpp (one stream) and our engine in process (one stream, and
 * one batch of as many sequences as the largest job count). For each job count it submits that many jobs at once
 * through the REST API and times them from the first submission to the last completion (server timestamps).
 *
 * <p>What it shows is the price of the pipeline (Kafka hops, PostgreSQL writes, stages in separate processes)
 * and what continuous batching wins back when many jobs are in flight; on one machine the stages share its
 * cores, so it cannot show the memory a cluster adds.
 */
final class PipelineBench {
    private PipelineBench() {}

    static final String PROMPT = "Once upon a time, there was a little girl named Lily who loved to play";

    static int run(String[] argv, PrintStream out, PrintStream err) throws Exception {
        Args a = Args.parse("bench pipeline", argv, ModelArgs.with("workers", "threads", "jobs", "tokens"),
                Set.of("skip-llama"));
        String model = a.positional(0, "MODEL (a .gguf path or a model name)");
        a.noMorePositional(1);
        int workers = a.getInt("workers", 2, 1);
        int threads = a.getInt("threads", 1, 1);
        int nTokens = a.getInt("tokens", 32, 2);
        int[] jobCounts = jobCounts(a.get("jobs", "1,4,16"));
        int maxJobs = Arrays.stream(jobCounts).max().orElseThrow();
        ModelCatalog.Entry e = ModelArgs.resolve(a, model);
        ModelInfo info = ModelInfo.read(e.path());
        if (!info.runnable()) {
            throw new IllegalArgumentException("cannot run " + e.id() + ": " + info.unsupportedReason());
        }
        int total = workers * threads;
        err.printf("bench pipeline %s: %d workers x %d threads; jobs %s of %d tokens each%n", e.id(), workers, threads,
                Arrays.toString(jobCounts), nTokens);

        // Baselines first, alone on the machine: one process with all the threads the workers get together.
        BenchCommand.Speeds ours;
        int nPrompt;
        try (GgufFile f = GgufFile.open(e.path()); Generator g = Generator.load(f, 1,
                new EngineOptions(total, 256 + nTokens, maxJobs + 2))) {
            int[] prompt = g.tokenizer().encode(PROMPT, true, false);
            nPrompt = prompt.length;
            ours = BenchCommand.measureOurs(g, prompt, nTokens, maxJobs, 1, 1, err);
        }
        BenchCommand.Speeds llama = a.flag("skip-llama") ? null
                : LlamaBaseline.measure(e.path(), PROMPT, total, nPrompt, nTokens, 1, 1, err);

        // A fresh data directory; others may enter it (PostgreSQL runs as user 'postgres' when we are root).
        Path dataDir = Files.createTempDirectory("bunshin-bench-pipeline",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx--x--x")));
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        List<double[]> rows = new ArrayList<>(); // {jobs, all tok/s, median per-job tok/s, tokens}
        try (LocalStack stack = LocalStack.start(UpOptions.parse(new String[] {
                "--model", e.path().toString(), "--workers", Integer.toString(workers),
                "--threads", Integer.toString(threads), "--port", Integer.toString(port),
                "--data-dir", dataDir.toString()}), err)) {
            ServiceRounds client = new ServiceRounds(stack.apiUrl(), nTokens, "pipeline");
            client.round(maxJobs, err); // warm-up: JIT in every worker, topics, connections
            for (int jobs : jobCounts) {
                ServiceRounds.Round r = client.round(jobs, err);
                rows.add(new double[] {jobs, r.aggregate(), BenchCommand.median(r.decodeRates()), r.tokens()});
            }
        }

        double base = llama == null ? Double.NaN : llama.decodeTokPerSec();
        out.printf("### %s (%s, %s, %s) — pipeline of %d workers x %d threads vs one process of %d threads, %d cores%n%n",
                e.id(), info.architecture(), info.quantization(), ModelInfo.formatCount(info.parameterCount()),
                workers, threads, total, Runtime.getRuntime().availableProcessors());
        out.println("| setup | jobs at once | tok/s, all jobs | tok/s per job (median) | all jobs / llama.cpp one stream |");
        out.println("|---|---:|---:|---:|---:|");
        row(out, "llama.cpp, one process", 1, base, base, base);
        row(out, "bunshin engine, one process", 1, ours.decodeTokPerSec(), ours.decodeTokPerSec(), base);
        row(out, "bunshin engine, one process, one batch", maxJobs, ours.batchTokPerSec(),
                ours.batchTokPerSec() / maxJobs, base);
        for (double[] r : rows) {
            row(out, "bunshin service: REST → Kafka → " + workers + " stage workers → PostgreSQL", (int) r[0], r[1], r[2], base);
        }
        out.printf("%nPipeline rows: %d tokens per job (prompt %d tokens), greedy, timed from the first job's creation to "
                + "the last one's end by the server's timestamps; one warm-up round of %d jobs first. Engine rows: one "
                + "run after one warm-up, decode only.%n", nTokens, nPrompt, maxJobs);
        return 0;
    }

    private static void row(PrintStream out, String setup, int jobs, double all, double perJob, double base) {
        out.printf(Locale.ROOT, "| %s | %d | %s | %s | %s |%n", setup, jobs, fmt(all), fmt(perJob),
                Double.isNaN(base) || Double.isNaN(all) ? "–" : String.format(Locale.ROOT, "%.2f×", all / base));
    }

    private static String fmt(double v) {
        return Double.isNaN(v) ? "–" : String.format(Locale.ROOT, "%.1f", v);
    }

    static int[] jobCounts(String list) {
        try {
            int[] counts = Arrays.stream(list.split(",")).map(String::strip).mapToInt(Integer::parseInt).toArray();
            if (counts.length == 0 || Arrays.stream(counts).anyMatch(c -> c < 1)) {
                throw new NumberFormatException();
            }
            return counts;
        } catch (NumberFormatException ex) {
            throw new UsageException("bench pipeline: option --jobs: expected job counts like 1,4,16, got \"" + list + "\"");
        }
    }
}
