package dev.bunshin.engine.bench;

import de.kherud.llama.InferenceParameters;
import de.kherud.llama.LlamaModel;
import de.kherud.llama.LlamaOutput;
import de.kherud.llama.LogLevel;
import de.kherud.llama.ModelParameters;
import dev.bunshin.engine.EngineOptions;
import dev.bunshin.engine.LayerRange;
import dev.bunshin.engine.StageInput;
import dev.bunshin.engine.StageRunner;
import dev.bunshin.engine.gguf.GgmlType;
import dev.bunshin.engine.gguf.GgufFile;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Speed of our engine against llama.cpp on a TinyLlama-shaped synthetic model: decode (one sequence), prefill
 * (128 tokens) and 16 sequences decoding in one batch. A main, not a test:
 * <pre>
 * java --add-modules jdk.incubator.vector -cp ... dev.bunshin.engine.bench.DecodeBench Q8_0 2 /tmp/bench [layers]
 * </pre>
 */
public final class DecodeBench {
    public static void main(String[] args) throws Exception {
        GgmlType type = GgmlType.valueOf(args[0]);
        int threads = Integer.parseInt(args[1]);
        Path dir = Path.of(args[2]);
        int layers = args.length > 3 ? Integer.parseInt(args[3]) : 22;
        boolean llamaCpp = args.length <= 4 || !args[4].equals("ours");
        Files.createDirectories(dir);
        Path model = dir.resolve("tinyllama-shaped-" + type + "-" + layers + ".gguf");
        if (!Files.exists(model)) {
            long t0 = System.nanoTime();
            SyntheticQuantModel.write(model, type, Path.of(System.getProperty("bunshin.shared", "../shared"), "models", "stories260K.gguf"), layers);
            System.out.printf("wrote %s (%d MB) in %.1f s%n", model, Files.size(model) >> 20, (System.nanoTime() - t0) / 1e9);
        }
        int nDecode = 32, nPrefill = 128, nSeq = 16;
        int[] prompt = new int[nPrefill];
        for (int i = 0; i < nPrefill; i++) prompt[i] = 3 + (i * 37) % 500;
        prompt[0] = 1;

        if (llamaCpp) {
            String tmp = System.getProperty("de.kherud.llama.tmpdir", dir.resolve("llama-tmp").toString());
            System.setProperty("de.kherud.llama.tmpdir", tmp);
            Files.createDirectories(Path.of(tmp));
            LlamaModel.setLogger(null, (LogLevel l, String m) -> { });
            try (LlamaModel llama = new LlamaModel(new ModelParameters().setModel(model.toString()).setThreads(threads)
                    .setThreadsBatch(threads).setCtxSize(1024).setBatchSize(512))) {
                for (int rep = 0; rep < 2; rep++) {
                    List<Long> stamps = new ArrayList<>();
                    for (LlamaOutput o : llama.generate(new InferenceParameters("Once upon a time").setTemperature(0f)
                            .setNPredict(nDecode).setIgnoreEos(true).setCachePrompt(false))) {
                        stamps.add(System.nanoTime());
                    }
                    double dec = (stamps.size() - 1) / ((stamps.get(stamps.size() - 1) - stamps.get(0)) / 1e9);
                    StringBuilder text = new StringBuilder();
                    for (int i = 0; i < nPrefill - 1; i++) text.append(" a");
                    long t0 = System.nanoTime();
                    llama.complete(new InferenceParameters(text.toString()).setTemperature(0f).setNPredict(1).setCachePrompt(false));
                    double pre = nPrefill / ((System.nanoTime() - t0) / 1e9);
                    System.out.printf("llama.cpp %s threads=%d: decode %.2f tok/s, prefill %.1f tok/s%n", type, threads, dec, pre);
                }
            }
        }

        try (GgufFile f = GgufFile.open(model);
             StageRunner r = StageRunner.load(f, new LayerRange(0, layers), EngineOptions.defaults().withThreads(threads))) {
            for (int rep = 0; rep < 2; rep++) {
                long t0 = System.nanoTime();
                r.forward(List.of(StageInput.ofTokens(1, 0, prompt)));
                double pre = nPrefill / ((System.nanoTime() - t0) / 1e9);
                r.free(1);
                r.forward(List.of(StageInput.ofTokens(1, 0, new int[]{1, 403, 407, 261, 378})));
                t0 = System.nanoTime();
                for (int i = 0; i < nDecode; i++) r.forward(List.of(StageInput.ofTokens(1, 5 + i, new int[]{42})));
                double dec = nDecode / ((System.nanoTime() - t0) / 1e9);
                r.free(1);
                List<StageInput> batch = new ArrayList<>();
                for (int s = 0; s < nSeq; s++) batch.add(StageInput.ofTokens(100 + s, 0, new int[]{1, 403, 407, 261, 378}));
                r.forward(batch);
                int steps = 8;
                t0 = System.nanoTime();
                for (int i = 0; i < steps; i++) {
                    batch.clear();
                    for (int s = 0; s < nSeq; s++) batch.add(StageInput.ofTokens(100 + s, 5 + i, new int[]{42}));
                    r.forward(batch);
                }
                double batched = (double) nSeq * steps / ((System.nanoTime() - t0) / 1e9);
                for (int s = 0; s < nSeq; s++) r.free(100 + s);
                System.out.printf("bunshin   %s threads=%d: decode %.2f tok/s, prefill %.1f tok/s, %d seqs batched %.1f tok/s (%.1fx)%n",
                        type, threads, dec, pre, nSeq, batched, batched / dec);
            }
        }
        System.exit(0); // llama.cpp leaves a non-daemon thread behind
    }
}
