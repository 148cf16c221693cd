package dev.bunshin.cli;

import dev.bunshin.engine.EngineOptions;
import dev.bunshin.engine.Generator;
import dev.bunshin.engine.StageInput;
import dev.bunshin.models.catalog.ModelCatalog;
import dev.bunshin.models.catalog.ModelInfo;
import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.engine.tokenizer.Tokenizer;
import dev.bunshin.llama.LlamaRelease;

import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.LongSupplier;

/**
 * {@code ./bunshin bench engine MODEL [--backend java|llama.cpp] [--stages N] [--json]}: a backend (split into N
 * stages in this process) against libllama running the whole model, same file, same threads, in one run,
 * alternating: prompt tok/s, single-sequence decode tok/s, batched decode tok/s; medians of {@code --reps} runs
 * after {@code --warmup} runs. {@code ./bunshin bench make-models DIR}: the synthetic models the benchmark uses.
 */
final class BenchCommand {
    private BenchCommand() {}

    static int run(String[] argv, PrintStream out, PrintStream err) throws Exception {
        if (argv.length == 0) {
            throw new UsageException("bench: missing what to benchmark (bench engine MODEL, bench pipeline MODEL, bench cluster MODEL, bench events, bench chaos MODEL, bench priority MODEL, bench structured MODEL, bench make-models DIR)");
        }
        String[] rest = Arrays.copyOfRange(argv, 1, argv.length);
        return switch (argv[0]) {
            case "engine" -> engine(rest, out, err);
            case "make-models" -> MakeModels.run(rest, out, err);
            case "pipeline" -> PipelineBench.run(rest, out, err);
            case "cluster" -> ClusterBench.run(rest, out, err);
            case "events" -> EventsBench.run(rest, out, err);
            case "chaos" -> ChaosBench.run(rest, out, err);
            case "priority" -> PriorityBench.run(rest, out, err);
            case "structured" -> StructuredBench.run(rest, out, err);
            default -> throw new UsageException("bench: unknown benchmark " + argv[0] + " (engine, pipeline, cluster, events, chaos, priority, structured, make-models)");
        };
    }

    /** Medians of one engine's measurements. */
    record Speeds(int promptTokens, double promptTokPerSec, double decodeTokPerSec, double batchTokPerSec) {}

    private static int engine(String[] argv, PrintStream out, PrintStream err) throws Exception {
        Args a = Args.parse("bench engine", argv, ModelArgs.with("threads", "tokens", "prompt-tokens", "batch", "reps", "warmup",
                        "backend", "stages", "clock"), Set.of("skip-llama", "json"));
        String model = a.positional(0, "MODEL (a .gguf path or a model name)");
        a.noMorePositional(1);
        int threads = a.getInt("threads", 2, 1);
        int nTokens = a.getInt("tokens", 32, 2);
        int nPrompt = a.getInt("prompt-tokens", 64, 2);
        int batch = a.getInt("batch", 16, 1);
        int reps = a.getInt("reps", 3, 1);
        int warmup = a.getInt("warmup", 2, 0);
        int nStages = a.getInt("stages", 1, 1);
        String backend = Backends.check("bench engine", a.get("backend", "java"));
        boolean json = a.flag("json");
        String clockName = a.get("clock", "wall");
        if (!clockName.equals("wall") && !clockName.equals("cpu")) {
            throw new UsageException("bench engine: option --clock: \"" + clockName + "\" is not wall or cpu");
        }
        if (clockName.equals("cpu") && threads != 1) {
            throw new UsageException("bench engine: option --clock cpu needs --threads 1 (it times the calling thread)");
        }
        LongSupplier clock = clockName.equals("cpu") ? threadCpu() : System::nanoTime;
        ModelCatalog.Entry e = ModelArgs.resolve(a, model);
        ModelInfo info = ModelInfo.read(e.path());
        if (backend.equals("java") && !info.runnable()) {
            throw new IllegalArgumentException("cannot run " + e.id() + " on the java backend: " + info.unsupportedReason());
        }
        err.printf("bench %s: backend %s in %d stage(s) against libllama's whole model, %d threads, %d prompt tokens, %d generated "
                + "tokens, batch %d, median of %d after %d warm-up run(s), alternating%n",
                e.id(), backend, nStages, threads, nPrompt, nTokens, batch, reps, warmup);

        EngineOptions options = new EngineOptions(threads, nPrompt + nTokens + 8, batch + 2);
        Speeds ours;
        Speeds base = null;
        String describe;
        try (GgufFile f = GgufFile.open(e.path());
             Generator g = Backends.generator(backend, f, nStages, options);
             Generator baseline = a.flag("skip-llama") ? null : Backends.generator("llama.cpp", f, 1, options)) {
            describe = g.stages().getFirst().describe();
            int[] promptIds = promptOf(g.tokenizer(), nPrompt);
            List<double[]> runs = new ArrayList<>();
            List<double[]> baseRuns = new ArrayList<>();
            long seq = 1_000_000;
            for (int r = 0; r < warmup + reps; r++) {
                String label = r < warmup ? "warm-up" : "run " + (r - warmup + 1);
                double[] x = oneRun(g, promptIds, nTokens, batch, seq, clock);
                seq += batch + 1;
                err.printf(Locale.ROOT, "%s %s: prompt %.1f tok/s, decode %.1f tok/s, batch %.1f tok/s%n", backend, label, x[0], x[1], x[2]);
                if (r >= warmup) runs.add(x);
                if (baseline != null) {
                    double[] y = oneRun(baseline, promptIds, nTokens, batch, seq, clock);
                    seq += batch + 1;
                    err.printf(Locale.ROOT, "baseline %s: prompt %.1f tok/s, decode %.1f tok/s, batch %.1f tok/s%n", label, y[0], y[1], y[2]);
                    if (r >= warmup) baseRuns.add(y);
                }
            }
            ours = speeds(promptIds.length, runs);
            if (baseline != null) base = speeds(promptIds.length, baseRuns);
        }

        if (json) {
            out.println("{" + fields(e.id(), backend, nStages, threads, batch, ours) + ", \"clock\": \"" + clockName + "\""
                    + (base == null ? "" : ", \"baseline\": {" + fields(e.id(), "llama.cpp", 1, threads, batch, base) + "}") + "}");
            return 0;
        }
        out.printf("### %s (%s, %s, %s) — %d threads, %d cores, Java %s%n%n", e.id(), info.architecture(),
                info.quantization(), ModelInfo.formatCount(info.parameterCount()), threads,
                Runtime.getRuntime().availableProcessors(), Runtime.version());
        String col = "bunshin " + backend + (nStages > 1 ? " (" + nStages + " stages)" : "");
        out.println("| metric | " + col + " | llama.cpp | " + col + " / llama.cpp |");
        out.println("|---|---:|---:|---:|");
        row(out, "prompt tok/s (" + ours.promptTokens + " tokens)", ours.promptTokPerSec, base == null ? Double.NaN : base.promptTokPerSec);
        row(out, "decode tok/s (1 sequence, " + nTokens + " tokens)", ours.decodeTokPerSec,
                base == null ? Double.NaN : base.decodeTokPerSec);
        row(out, "batched decode tok/s (" + batch + " sequences)", ours.batchTokPerSec, base == null ? Double.NaN : base.batchTokPerSec);
        out.printf("%n" + clockName + "-clock medians of %d runs after %d warm-up run(s), the two alternating; llama.cpp: libllama %s running the whole model "
                + "in this process (FFM), KV F16; ours: %s%n", reps, warmup, LlamaRelease.RELEASE, describe);
        return 0;
    }

    /**
     * The calling thread's CPU time: with one thread both backends compute on the calling thread, so this times
     * their work without the time other processes hold the cores (what makes wall-clock rates noisy on a busy
     * machine). It leaves out memory stalls caused by others only in part.
     */
    private static LongSupplier threadCpu() {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        if (!mx.isCurrentThreadCpuTimeSupported()) {
            throw new UsageException("bench engine: option --clock cpu: this JVM cannot read a thread's CPU time");
        }
        return mx::getCurrentThreadCpuTime;
    }

    private static String fields(String model, String backend, int stages, int threads, int batchSize, Speeds s) {
        return String.format(Locale.ROOT, "\"model\": \"%s\", \"backend\": \"%s\", \"stages\": %d, \"threads\": %d, \"batch\": %d, "
                        + "\"prompt_tok_s\": %.2f, \"decode_tok_s\": %.2f, \"batch16_tok_s\": %.2f",
                model.replace("\\", "\\\\").replace("\"", "\\\""), backend, stages, threads, batchSize, s.promptTokPerSec,
                s.decodeTokPerSec, s.batchTokPerSec);
    }

    private static Speeds speeds(int promptTokens, List<double[]> runs) {
        return new Speeds(promptTokens, median(runs.stream().map(x -> x[0]).toList()),
                median(runs.stream().map(x -> x[1]).toList()), median(runs.stream().map(x -> x[2]).toList()));
    }

    private static void row(PrintStream out, String metric, double ours, double theirs) {
        out.printf(Locale.ROOT, "| %s | %.1f | %s | %s |%n", metric, ours, // NaN: not measured or not measurable
                Double.isNaN(theirs) ? "–" : String.format(Locale.ROOT, "%.1f", theirs),
                Double.isNaN(theirs) || theirs == 0 ? "–" : String.format(Locale.ROOT, "%.2f×", ours / theirs));
    }

    /** About {@code n} tokens of ordinary text (BOS first if the model adds one). */
    static int[] promptOf(Tokenizer t, int n) {
        String sentence = "Once upon a time, there was a little girl named Lily who loved to play in the park with her "
                + "friends and her dog. ";
        StringBuilder text = new StringBuilder(sentence);
        int[] ids = t.encode(text.toString(), true, false);
        while (ids.length < n) {
            text.append(sentence);
            ids = t.encode(text.toString(), true, false);
        }
        return Arrays.copyOf(ids, n);
    }

    static Speeds measureOurs(Generator g, int[] prompt, int nTokens, int batch, int warmup, int reps,
                                      PrintStream err) {
        List<double[]> runs = new ArrayList<>();
        long seq = 1_000_000;
        for (int r = 0; r < warmup + reps; r++) {
            double[] x = oneRun(g, prompt, nTokens, batch, seq, System::nanoTime);
            seq += batch + 1;
            err.printf(Locale.ROOT, "bunshin %s: prompt %.1f tok/s, decode %.1f tok/s, batch %.1f tok/s%n",
                    r < warmup ? "warm-up" : "run " + (r - warmup + 1), x[0], x[1], x[2]);
            if (r >= warmup) runs.add(x);
        }
        return speeds(prompt.length, runs);
    }

    /**
     * One measurement: {prompt tok/s, single-sequence decode tok/s, batched decode tok/s}. Uses sequence ids
     * {@code seq .. seq + batch} and frees them.
     */
    static double[] oneRun(Generator g, int[] prompt, int nTokens, int batch, long seq, LongSupplier clock) {
        // Single sequence: prefill, then greedy decode without stopping at end-of-generation.
        long s = seq++;
        long t0 = clock.getAsLong();
        float[] logits = g.forward(s, 0, prompt);
        long t1 = clock.getAsLong();
        int pos = prompt.length;
        for (int i = 0; i < nTokens; i++) {
            logits = g.forward(s, pos++, new int[]{argmax(logits)});
        }
        long t2 = clock.getAsLong();
        g.free(s);

        // Batch: each sequence gets a short prompt, then all decode together, one token each per call.
        int shortPrompt = Math.min(8, prompt.length);
        long[] seqs = new long[batch];
        int[] next = new int[batch];
        for (int b = 0; b < batch; b++) {
            seqs[b] = seq++;
            next[b] = argmax(g.forward(seqs[b], 0, Arrays.copyOf(prompt, shortPrompt)));
        }
        long t3 = clock.getAsLong();
        for (int i = 0; i < nTokens; i++) {
            List<StageInput> in = new ArrayList<>(batch);
            for (int b = 0; b < batch; b++) in.add(StageInput.ofTokens(seqs[b], shortPrompt + i, new int[]{next[b]}));
            List<float[]> outs = g.forwardBatch(in);
            for (int b = 0; b < batch; b++) next[b] = argmax(outs.get(b));
        }
        long t4 = clock.getAsLong();
        for (long x : seqs) g.free(x);
        return new double[]{prompt.length * 1e9 / (t1 - t0), nTokens * 1e9 / (t2 - t1),
                (double) batch * nTokens * 1e9 / (t4 - t3)};
    }

    static int argmax(float[] x) {
        int best = 0;
        for (int i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
        return best;
    }

    static double median(List<Double> xs) {
        double[] a = xs.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        if (a.length == 0) return Double.NaN;
        return a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
    }
}
