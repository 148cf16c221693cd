package dev.bunshin.cli;

import dev.bunshin.engine.EngineOptions;
import dev.bunshin.engine.Generator;
import dev.bunshin.models.catalog.ModelCatalog;
import dev.bunshin.models.catalog.ModelInfo;
import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.engine.sample.SamplingParams;

import java.io.PrintStream;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;
import java.util.Set;

/**
 * {@code ./bunshin generate --model MODEL --prompt TEXT ...}: generation in this process with the model's layers
 * split into {@code --stages} ranges run one after another on {@code --backend java|llama.cpp}, streaming text to
 * stdout as it comes (or, with {@code --ids}, printing the generated token ids on one line).
 */
final class GenerateCommand {
    private GenerateCommand() {}

    /** Context positions allocated when --context is not given and the model's own is larger. */
    static final int DEFAULT_MAX_CONTEXT = 4096;

    static int run(String[] argv, PrintStream out, PrintStream err) throws Exception {
        Args a = Args.parse("generate", argv, ModelArgs.with("model", "prompt", "max-tokens", "temperature", "seed",
                "top-k", "top-p", "min-p", "repeat-penalty", "stages", "threads", "context", "backend"), Set.of("ids"));
        a.noMorePositional(0);
        String model = a.require("model");
        String prompt = a.require("prompt");
        int maxTokens = a.getInt("max-tokens", 128, 0);
        float temperature = a.getFloat("temperature", 0.8f, 0f, 100f);
        boolean seedGiven = a.has("seed");
        long seed = seedGiven ? a.getLong("seed", 0) : System.nanoTime() & 0xffffffffL;
        int topK = a.getInt("top-k", 40, 0);
        float topP = a.getFloat("top-p", 0.95f, 0f, 1f);
        float minP = a.getFloat("min-p", 0.05f, 0f, 1f);
        float repeatPenalty = a.getFloat("repeat-penalty", 1f, 0f, 100f);
        int stages = a.getInt("stages", 1, 1);
        String backend = Backends.check("generate", a.get("backend", "java"));
        boolean ids = a.flag("ids");
        int threads = a.getInt("threads", Runtime.getRuntime().availableProcessors(), 1);
        SamplingParams params = new SamplingParams(temperature, topK, topP, minP, repeatPenalty, 64, 0f, 0f, seed);

        ModelCatalog.Entry e = ModelArgs.resolve(a, model);
        try (GgufFile f = GgufFile.open(e.path())) {
            ModelInfo info = ModelInfo.of(f);
            if (backend.equals("java") && !info.runnable()) {
                throw new IllegalArgumentException("cannot run " + e.id() + " on the java backend: " + info.unsupportedReason());
            }
            if (stages > info.nLayers()) {
                throw new UsageException("generate: option --stages is " + stages + " but " + e.id() + " has only "
                        + info.nLayers() + " layers");
            }
            int context = a.getInt("context", Math.min(info.contextLength() > 0 ? info.contextLength()
                    : DEFAULT_MAX_CONTEXT, DEFAULT_MAX_CONTEXT), 1);
            EngineOptions options = new EngineOptions(threads, context, 1);
            long t0 = System.nanoTime();
            try (Generator g = Backends.generator(backend, f, stages, options)) {
                long loadNanos = System.nanoTime() - t0;
                err.printf(Locale.ROOT, "model %s: %d layers in %d stage(s) %s on %s, %d threads, context %d, loaded in %.0f ms; "
                                + "temperature %s, seed %d%n", e.id(), info.nLayers(), stages,
                        g.stages().stream().map(s -> s.range().toString()).toList(), backend, threads, context,
                        loadNanos / 1e6, temperature, seed);
                Generator.Result r = g.generate(prompt, maxTokens, params, ids ? null : piece -> {
                    out.print(piece);
                    out.flush();
                });
                if (ids) { // the generated token ids on one line, for comparing backends
                    out.print(Arrays.stream(r.tokens()).mapToObj(Integer::toString).collect(Collectors.joining(" ")));
                }
                out.println();
                out.flush();
                err.printf(Locale.ROOT, "prompt: %d tokens in %.1f ms (%.1f tok/s); generated %d tokens in %.1f ms "
                                + "(%.1f tok/s after the first)%s%n",
                        r.promptTokens().length, r.prefillNanos() / 1e6, r.prefillTokensPerSecond(), r.tokens().length,
                        r.decodeNanos() / 1e6, r.decodeTokensPerSecond(),
                        r.endOfGeneration() ? "; stopped at end of generation"
                                : r.tokens().length < maxTokens ? "; stopped at the end of the context (" + context
                                + " positions; --context to change)" : "");
            }
        }
        return 0;
    }
}
