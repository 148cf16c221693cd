package dev.bunshin.cli;

import dev.bunshin.engine.EngineOptions;
import dev.bunshin.engine.Generator;
import dev.bunshin.engine.StageInput;
import dev.bunshin.engine.catalog.ModelCatalog;
import dev.bunshin.engine.catalog.ModelInfo;
import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.engine.tokenizer.Tokenizer;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * {@code ./bunshin bench engine MODEL}: our engine and llama.cpp on the same file with the same threads, in one
 * run: prompt tok/s, single-sequence decode tok/s, and our batched decode tok/s; medians of {@code --reps} runs
 * after one warm-up. {@code ./bunshin bench make-models DIR}: the synthetic models the benchmark uses.
 */
final class BenchCommand {
    private BenchCommand() {}

    static int run(String[] argv, PrintStream out, PrintStream err) throws Exception {
        if (argv.length == 0) {
            throw new UsageException("bench: missing what to benchmark (bench engine MODEL, bench pipeline MODEL, bench cluster MODEL, bench make-models DIR)");
        }
        String[] rest = Arrays.copyOfRange(argv, 1, argv.length);
        return switch (argv[0]) {
            case "engine" -> engine(rest, out, err);
            case "make-models" -> MakeModels.run(rest, out, err);
            case "pipeline" -> PipelineBench.run(rest, out, err);
            case "cluster" -> ClusterBench.run(rest, out, err);
            default -> throw new UsageException("bench: unknown benchmark " + argv[0] + " (engine, pipeline, cluster, make-models)");
        };
    }

    /** Medians of one engine's measurements. */
    record Speeds(int promptTokens, double promptTokPerSec, double decodeTokPerSec, double batchTokPerSec) {}

    private static int engine(String[] argv, PrintStream out, PrintStream err) throws Exception {
        Args a = Args.parse("bench engine", argv, ModelArgs.with("threads", "tokens", "prompt-tokens", "batch", "reps", "warmup"),
                Set.of("skip-llama"));
        String model = a.positional(0, "MODEL (a .gguf path or a model name)");
        a.noMorePositional(1);
        int threads = a.getInt("threads", 2, 1);
        int nTokens = a.getInt("tokens", 32, 2);
        int nPrompt = a.getInt("prompt-tokens", 64, 2);
        int batch = a.getInt("batch", 16, 1);
        int reps = a.getInt("reps", 3, 1);
        int warmup = a.getInt("warmup", 2, 0);
        ModelCatalog.Entry e = ModelArgs.resolve(a, model);
        ModelInfo info = ModelInfo.read(e.path());
        if (!info.runnable()) {
            throw new IllegalArgumentException("cannot run " + e.id() + ": " + info.unsupportedReason());
        }
        err.printf("bench %s: %d threads, %d prompt tokens, %d generated tokens, batch %d, median of %d after %d warm-up run(s)%n",
                e.id(), threads, nPrompt, nTokens, batch, reps, warmup);

        int[] promptIds;
        String promptText;
        Speeds ours;
        try (GgufFile f = GgufFile.open(e.path())) {
            EngineOptions options = new EngineOptions(threads, nPrompt + nTokens + 8, batch + 2);
            try (Generator g = Generator.load(f, 1, options)) {
                promptIds = promptOf(g.tokenizer(), nPrompt);
                promptText = g.tokenizer().decode(promptIds);
                ours = measureOurs(g, promptIds, nTokens, batch, warmup, reps, err);
            }
        }
        Speeds llama = a.flag("skip-llama") ? null : LlamaBaseline.measure(e.path(), promptText, threads, nPrompt,
                nTokens, warmup, reps, err);

        out.printf("### %s (%s, %s, %s) — %d threads, %d cores, Java %s%n%n", e.id(), info.architecture(),
                info.quantization(), ModelInfo.formatCount(info.parameterCount()), threads,
                Runtime.getRuntime().availableProcessors(), Runtime.version());
        out.println("| metric | bunshin | llama.cpp | bunshin / llama.cpp |");
        out.println("|---|---:|---:|---:|");
        row(out, "prompt tok/s (" + ours.promptTokens + " tokens" + (llama == null ? "" : ", llama.cpp "
                + llama.promptTokens) + ")", ours.promptTokPerSec, llama == null ? Double.NaN : llama.promptTokPerSec);
        row(out, "decode tok/s (1 sequence, " + nTokens + " tokens)", ours.decodeTokPerSec,
                llama == null ? Double.NaN : llama.decodeTokPerSec);
        row(out, "batched decode tok/s (" + batch + " sequences; vs llama.cpp single)", ours.batchTokPerSec,
                llama == null ? Double.NaN : llama.decodeTokPerSec);
        out.printf("%nmedians of %d runs after %d warm-up run(s); our KV cache is F32, llama.cpp's F16; llama.cpp through "
                + "de.kherud:llama %s, timed as completions of 1 and of N tokens%n", reps, warmup, "4.2.0");
        return 0;
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
        List<Double> promptRates = new ArrayList<>();
        List<Double> decodeRates = new ArrayList<>();
        List<Double> batchRates = new ArrayList<>();
        long seq = 1_000_000;
        for (int r = 0; r < warmup + reps; r++) {
            // Single sequence: prefill, then greedy decode without stopping at end-of-generation.
            long s = seq++;
            long t0 = System.nanoTime();
            float[] logits = g.forward(s, 0, prompt);
            long t1 = System.nanoTime();
            int pos = prompt.length;
            for (int i = 0; i < nTokens; i++) {
                logits = g.forward(s, pos++, new int[]{argmax(logits)});
            }
            long t2 = System.nanoTime();
            g.free(s);

            // Batch: each sequence gets a short prompt, then all decode together, one token each per call.
            int shortPrompt = Math.min(8, prompt.length);
            long[] seqs = new long[batch];
            int[] next = new int[batch];
            for (int b = 0; b < batch; b++) {
                seqs[b] = seq++;
                next[b] = argmax(g.forward(seqs[b], 0, Arrays.copyOf(prompt, shortPrompt)));
            }
            long t3 = System.nanoTime();
            for (int i = 0; i < nTokens; i++) {
                List<StageInput> in = new ArrayList<>(batch);
                for (int b = 0; b < batch; b++) in.add(StageInput.ofTokens(seqs[b], shortPrompt + i, new int[]{next[b]}));
                List<float[]> outs = g.forwardBatch(in);
                for (int b = 0; b < batch; b++) next[b] = argmax(outs.get(b));
            }
            long t4 = System.nanoTime();
            for (long x : seqs) g.free(x);

            double pr = prompt.length * 1e9 / (t1 - t0);
            double dr = nTokens * 1e9 / (t2 - t1);
            double br = (double) batch * nTokens * 1e9 / (t4 - t3);
            err.printf(Locale.ROOT, "bunshin %s: prompt %.1f tok/s, decode %.1f tok/s, batch %.1f tok/s%n",
                    r < warmup ? "warm-up" : "run " + (r - warmup + 1), pr, dr, br);
            if (r >= warmup) {
                promptRates.add(pr);
                decodeRates.add(dr);
                batchRates.add(br);
            }
        }
        return new Speeds(prompt.length, median(promptRates), median(decodeRates), median(batchRates));
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
