package dev.bunshin.engine;

import dev.bunshin.engine.model.Architecture;
import dev.bunshin.engine.gguf.GgufException;
import dev.bunshin.engine.gguf.GgufFile;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelConfigTest {

    @Test
    void readsStories260K() throws Exception {
        try (GgufFile f = GgufFile.open(TestModels.stories260K())) {
            ModelConfig c = Architecture.readConfig(f);
            // Values as llama.cpp prints them when loading this file (print_info).
            assertEquals("llama", c.architecture());
            assertEquals(5, c.nLayers());
            assertEquals(64, c.nEmbd());
            assertEquals(8, c.nHead());
            assertEquals(4, c.nHeadKv());
            assertEquals(8, c.headDim());
            assertEquals(172, c.nFf());
            assertEquals(512, c.nVocab());
            assertEquals(2048, c.contextLength());
            assertEquals(1e-5f, c.rmsEps());
            assertEquals(10000f, c.ropeFreqBase());
            assertEquals(1f, c.ropeFreqScale());
            assertEquals(8, c.ropeDim());
            assertFalse(c.ropeNeox());
            assertFalse(c.qkNorm());
            assertEquals(32, c.kvDim());
        }
    }

    @Test
    void refusesOtherArchitecturesByName() throws Exception {
        try (GgufFile f = GgufFile.open(TestModels.require("vocab/ggml-vocab-bert-bge.gguf"))) {
            GgufException e = assertThrows(GgufException.class, () -> Architecture.readConfig(f));
            assertTrue(e.getMessage().contains("bert") && e.getMessage().contains("llama, qwen2, qwen3")
                    && e.getMessage().contains("ggml-vocab-bert-bge.gguf"), e.getMessage());
        }
    }
}
