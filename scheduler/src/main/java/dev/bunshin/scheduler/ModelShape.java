package dev.bunshin.scheduler;

import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.models.catalog.ModelInfo;
import dev.bunshin.models.plan.ModelFootprint;

import java.io.IOException;
import java.nio.file.Path;

/**
 * What the scheduler needs to know about the model: read once from the GGUF header (no weights are loaded). Any
 * architecture with the usual llama.cpp keys plans; whether a worker's backend can run it is the worker's to say.
 */
record ModelShape(ModelInfo info, ModelFootprint footprint) {

    /** The context a file that does not say its own gets (llama.cpp's default for a missing key is of this size). */
    static final int DEFAULT_CONTEXT = 4096;

    static ModelShape read(Path model) throws IOException {
        try (GgufFile f = GgufFile.open(model)) {
            ModelInfo info = ModelInfo.of(f);
            if (info.nLayers() <= 0 || info.nEmbd() <= 0) {
                throw new IOException(model + ": architecture " + info.architecture()
                        + " has no block_count / embedding_length keys");
            }
            return new ModelShape(info, ModelFootprint.of(f, info.nLayers()));
        }
    }

    /** The model's trained context length. */
    int contextLength() {
        return info.contextLength() > 0 ? info.contextLength() : DEFAULT_CONTEXT;
    }
}
