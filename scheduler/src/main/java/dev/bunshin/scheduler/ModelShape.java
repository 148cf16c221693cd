package dev.bunshin.scheduler;

import dev.bunshin.engine.model.Architecture;
import dev.bunshin.engine.ModelConfig;
import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.models.plan.ModelFootprint;

import java.io.IOException;
import java.nio.file.Path;

/** What the scheduler needs to know about the model: read once from the GGUF header (no weights are loaded). */
record ModelShape(ModelConfig config, ModelFootprint footprint) {

    static ModelShape read(Path model) throws IOException {
        try (GgufFile f = GgufFile.open(model)) {
            ModelConfig config = Architecture.readConfig(f);
            return new ModelShape(config, ModelFootprint.of(f, config.nLayers()));
        }
    }
}
