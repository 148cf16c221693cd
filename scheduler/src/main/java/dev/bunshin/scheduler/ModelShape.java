package dev.bunshin.scheduler;

import dev.bunshin.engine.ModelConfig;
import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.engine.plan.ModelFootprint;

import java.io.IOException;
import java.nio.file.Path;

/** What the scheduler needs to know about the model: read once from the GGUF header (no weights are loaded). */
record ModelShape(ModelConfig config, ModelFootprint footprint) {

    static ModelShape read(Path model) throws IOException {
        try (GgufFile f = GgufFile.open(model)) {
            ModelConfig config = ModelConfig.fromGguf(f);
            return new ModelShape(config, ModelFootprint.of(f, config.nLayers()));
        }
    }
}
