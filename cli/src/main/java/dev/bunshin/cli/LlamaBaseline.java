package dev.bunshin.cli;

import de.kherud.llama.InferenceParameters;
import de.kherud.llama.LlamaIterator;
import de.kherud.llama.LlamaModel;
import de.kherud.llama.ModelParameters;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * llama.cpp's speed on the same file through de.kherud:llama. The binding returns no timings (llama.cpp's own
 * go to its log, which the binding prints rather than hands to Java), so the stream of generated tokens is timed:
 * the first token arrives once the prompt is evaluated (prompt speed), the following ones one decode step apart
 * (decode speed). llama.cpp's log is switched off: it would drown the table.
 */
final class LlamaBaseline {
    private LlamaBaseline() {}

    static BenchCommand.Speeds measure(Path model, String prompt, int threads, int nPrompt, int nTokens, int warmup, int reps,
                                       PrintStream err) {
        LlamaModel.setLogger(null, (level, msg) -> { }); // its model-loading log would drown the table
        ModelParameters mp = new ModelParameters()
                .setModel(model.toString())
                .setThreads(threads)
                .setThreadsBatch(threads)
                .setCtxSize(nPrompt + nTokens + 64)
                .setBatchSize(Math.max(512, nPrompt))
                .setGpuLayers(0)
                .disableLog();
        List<Double> promptRates = new ArrayList<>();
        List<Double> decodeRates = new ArrayList<>();
        int promptTokens;
        try (LlamaModel llama = new LlamaModel(mp)) {
            promptTokens = llama.encode(prompt).length + 1; // + BOS, which completion adds
            for (int r = 0; r < warmup + reps; r++) {
                InferenceParameters ip = new InferenceParameters(prompt)
                        .setNPredict(nTokens)
                        .setIgnoreEos(true)
                        .setTemperature(0f)
                        .setCachePrompt(false)
                        .setSeed(42);
                long t0 = System.nanoTime();
                long tFirst = 0;
                int outputs = 0;
                LlamaIterator it = llama.generate(ip).iterator();
                while (it.hasNext()) {
                    it.next();
                    if (outputs++ == 0) tFirst = System.nanoTime();
                }
                long tEnd = System.nanoTime();
                double pr = promptTokens * 1e9 / (tFirst - t0);
                double dr = (nTokens - 1) * 1e9 / (tEnd - tFirst);
                err.printf(Locale.ROOT, "llama.cpp %s: prompt %.1f tok/s, decode %.1f tok/s (%d outputs)%n",
                        r < warmup ? "warm-up" : "run " + (r - warmup + 1), pr, dr, outputs);
                if (r >= warmup) {
                    promptRates.add(pr);
                    decodeRates.add(dr);
                }
            }
        }
        return new BenchCommand.Speeds(promptTokens, BenchCommand.median(promptRates), BenchCommand.median(decodeRates),
                Double.NaN);
    }
}
