package dev.bunshin.llama;

import dev.bunshin.engine.EngineOptions;
import dev.bunshin.engine.Generator;
import dev.bunshin.engine.LayerRange;
import dev.bunshin.engine.StageBackend;
import dev.bunshin.engine.StageRunner;
import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.engine.tokenizer.Tokenizer;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The one place that turns a backend name ({@code --backend java|llama.cpp}) into a {@link StageBackend}. A
 * backend that cannot run the model fails with its reason; nothing falls back to the other backend.
 */
public final class StageBackends {
    private StageBackends() {}

    /** The names {@code --backend} accepts. */
    public static final List<String> NAMES = List.of("java", "llama.cpp");

    /** Loads {@code range} of {@code file} on the named backend. The file must stay open while the stage is used. */
    public static StageBackend load(String name, GgufFile file, LayerRange range, EngineOptions options) throws IOException {
        return switch (name) {
            case "java" -> StageRunner.load(file, range, options);
            case "llama.cpp" -> LlamaCppStage.load(file, range, options, LlamaCppStage.Settings.defaults());
            default -> throw new IllegalArgumentException("unknown backend \"" + name + "\" (" + String.join(", ", NAMES) + ")");
        };
    }

    /** Whether the llama.cpp backend can cut {@code architecture} into stages (any runs as one whole stage). */
    public static boolean llamaCppCuts(String architecture) {
        return ShardFile.CUTTABLE.contains(architecture);
    }

    /** {@code file} split into {@code nStages} near-equal ranges on the named backend, as a {@link Generator}. */
    public static Generator generator(String name, GgufFile file, int nStages, EngineOptions options) throws IOException {
        int nLayers = ModelShape.of(file).nLayers();
        Tokenizer tokenizer = Tokenizer.fromGguf(file);
        List<StageBackend> stages = new ArrayList<>();
        try {
            for (LayerRange r : LayerRange.split(nLayers, nStages)) stages.add(load(name, file, r, options));
            return Generator.of(tokenizer, stages);
        } catch (IOException | RuntimeException e) {
            stages.forEach(StageBackend::close);
            throw e;
        }
    }
}
