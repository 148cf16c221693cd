package dev.bunshin.scheduler;

import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.engine.gguf.GgufKeys;

import java.io.IOException;
import java.nio.file.Path;

/** What the scheduler needs to know about the model: read once from the GGUF header (nothing is loaded). */
record ModelShape(int nLayers, int nEmbd, int contextLength, LayerSizes sizes) {

    static ModelShape read(Path model) throws IOException {
        try (GgufFile f = GgufFile.open(model)) {
            String arch = f.getString(GgufKeys.GENERAL_ARCHITECTURE);
            int nLayers = f.getInt(GgufKeys.arch(arch, GgufKeys.BLOCK_COUNT));
            int nEmbd = f.getInt(GgufKeys.arch(arch, GgufKeys.EMBEDDING_LENGTH));
            int ctx = f.getInt(GgufKeys.arch(arch, GgufKeys.CONTEXT_LENGTH));
            return new ModelShape(nLayers, nEmbd, ctx, LayerSizes.of(f, nLayers));
        }
    }
}
