package dev.bunshin.cli;

import de.kherud.llama.InferenceParameters;
import de.kherud.llama.LlamaModel;
import de.kherud.llama.ModelParameters;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * llama.cpp's speed on the same file through de.kherud:llama. The binding returns no timings (llama.cpp's own
 * go to its log, which the binding prints rather than hands to Java), so whole completions are timed: one of 1
 * token (prompt evaluation) and one of N tokens (the same plus N - 1 decode steps); the difference gives the
 * decode speed. (Timing the token stream instead is unreliable: the binding may deliver several tokens at once.)
 * llama.cpp's log is switched off: it would drown the table.
 */
final class LlamaBaseline {
    private LlamaBaseline() {}

    static BenchCommand.Speeds measure(Path model, String prompt, int threads, int nPrompt, int nTokens, int warmup, int reps,
                                       PrintStream err) {
        prepareNativeDir();
        LlamaModel.setLogger(null, (level, msg) -> { }); // its model-loading log would drown the table
        ModelParameters mp = new ModelParameters()
                .setModel(model.toString())
                .setThreads(threads)
                .setThreadsBatch(threads)
                .setCtxSize(nPrompt + nTokens + 64)
                .setBatchSize(Math.max(512, nPrompt))
                .setGpuLayers(0)
                .disableLog();
        List<Double> oneTimes = new ArrayList<>();
        List<Double> allTimes = new ArrayList<>();
        int promptTokens;
        try (LlamaModel llama = new LlamaModel(mp)) {
            promptTokens = llama.encode(prompt).length + 1; // + BOS, which completion adds
            for (int r = 0; r < warmup + reps; r++) {
                // One token: the prompt's evaluation (plus one sampling). N tokens: that plus N - 1 decode steps.
                long tOne = timeCompletion(llama, prompt, 1);
                long tAll = timeCompletion(llama, prompt, nTokens);
                err.printf(Locale.ROOT, "llama.cpp %s: 1 token in %.2f ms, %d tokens in %.2f ms%n",
                        r < warmup ? "warm-up" : "run " + (r - warmup + 1), tOne / 1e6, nTokens, tAll / 1e6);
                if (r >= warmup) {
                    oneTimes.add((double) tOne);
                    allTimes.add((double) tAll);
                }
            }
        }
        // Rates from the median times (a difference of two noisy times per run can even come out negative).
        double tOne = BenchCommand.median(oneTimes);
        double tAll = BenchCommand.median(allTimes);
        double decode = tAll > tOne ? (nTokens - 1) * 1e9 / (tAll - tOne) : Double.NaN;
        return new BenchCommand.Speeds(promptTokens, promptTokens * 1e9 / tOne, decode, Double.NaN);
    }
    /**
     * The JNI loader unpacks its library into {@code de.kherud.llama.tmpdir} but does not create that directory
     * (a missing one reads as "No native library found"), and it deletes {@code llama*} files in the shared temp
     * directory when none is set. So: a private directory, created here.
     */
    static void prepareNativeDir() {
        String dir = System.getProperty("de.kherud.llama.tmpdir");
        try {
            Path p = dir != null ? Path.of(dir)
                    : Path.of(System.getProperty("java.io.tmpdir"), "bunshin-llama-" + ProcessHandle.current().pid());
            java.nio.file.Files.createDirectories(p);
            System.setProperty("de.kherud.llama.tmpdir", p.toString());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot create llama.cpp's native library directory " + dir, e);
        }
    }

    /** Nanoseconds of one greedy completion of {@code nPredict} tokens (not stopping at end-of-generation). */
    private static long timeCompletion(LlamaModel llama, String prompt, int nPredict) {
        InferenceParameters ip = new InferenceParameters(prompt)
                .setNPredict(nPredict)
                .setIgnoreEos(true)
                .setTemperature(0f)
                .setCachePrompt(false) // evaluate the prompt every time
                .setSeed(42);
        long t0 = System.nanoTime();
        llama.complete(ip);
        return System.nanoTime() - t0;
    }
}
