package dev.bunshin.llama;

import dev.bunshin.models.synthetic.SyntheticModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The build obtained libllama of the pinned release; it loads, and our struct layouts match it. */
class LlamaLibraryTest {

    @Test
    void buildObtainedThePinnedRelease() {
        Path lib = LlamaRelease.locate();
        assertTrue(Files.isRegularFile(lib), lib.toString());
        assertEquals("v0.5.0", LlamaRelease.RELEASE);
        assertEquals(LlamaRelease.RELEASE, LlamaRelease.releaseOf(lib));
        LlamaLibrary l = LlamaLibrary.get();
        String info = l.systemInfo();
        System.err.println("libllama " + l.release() + " at " + l.path() + ": " + info);
        assertTrue(info.contains("CPU"), "system info names the CPU backend (a CPU variant was loaded): " + info);
    }

    @Test
    void structLayoutsMatchTheHeader() {
        // sizeof / offsetof as gcc computes them for v0.5.0's include/llama.h (LP64).
        assertEquals(80, LlamaLayouts.MODEL_PARAMS.byteSize());
        assertEquals(160, LlamaLayouts.CONTEXT_PARAMS.byteSize());
        assertEquals(56, LlamaLayouts.BATCH.byteSize());
        assertEquals(16, LlamaLayouts.offset(LlamaLayouts.MODEL_PARAMS, "n_gpu_layers"));
        assertEquals(24, LlamaLayouts.offset(LlamaLayouts.MODEL_PARAMS, "load_mode"));
        assertEquals(72, LlamaLayouts.offset(LlamaLayouts.MODEL_PARAMS, "vocab_only"));
        assertEquals(77, LlamaLayouts.offset(LlamaLayouts.MODEL_PARAMS, "load_mtp"));
        assertEquals(28, LlamaLayouts.offset(LlamaLayouts.CONTEXT_PARAMS, "n_threads"));
        assertEquals(88, LlamaLayouts.offset(LlamaLayouts.CONTEXT_PARAMS, "cb_eval"));
        assertEquals(104, LlamaLayouts.offset(LlamaLayouts.CONTEXT_PARAMS, "type_k"));
        assertEquals(133, LlamaLayouts.offset(LlamaLayouts.CONTEXT_PARAMS, "kv_unified"));
        assertEquals(152, LlamaLayouts.offset(LlamaLayouts.CONTEXT_PARAMS, "ctx_other"));
        assertEquals(48, LlamaLayouts.offset(LlamaLayouts.BATCH, "logits"));
    }

    @Test
    void valuesWrittenThroughTheLayoutsReadBackThroughTheLibrary(@TempDir Path dir) throws Exception {
        Path gguf = SyntheticModel.write(dir.resolve("tiny.gguf"), SyntheticModel.tiny("llama", SyntheticModel.Mix.Q8_0));
        // n_ctx 768 for 3 sequences: llama.cpp keeps it (a multiple of 256); n_embd / n_layer / n_vocab from the file.
        try (NativeModel m = NativeModel.load(gguf, new NativeModel.Settings(1, 768, 3, 64, -1, 0))) {
            assertEquals(768, m.nCtx());
            assertEquals(256, m.nEmbd());
            assertEquals(2, m.nLayer());
            assertEquals(512, m.nVocab());
            assertEquals(64, m.nBatch());
        }
    }

    @Test
    void weightsAreReadIntoMemoryUnlessMappingIsAskedForAndBothGiveTheSameLogits(@TempDir Path dir) throws Exception {
        Path gguf = SyntheticModel.write(dir.resolve("tiny.gguf"), SyntheticModel.tiny("llama", SyntheticModel.Mix.Q8_0));
        float[] read;
        float[] mapped;
        try (NativeModel m = NativeModel.load(gguf, new NativeModel.Settings(1, 256, 1, 16, -1, 0,
                NativeModel.NO_EMBEDDINGS, WeightLoading.READ))) {
            assertTrue(!mapsOfThisProcess().contains(gguf.toString()), "read: the file is not mapped");
            read = firstLogits(m);
        }
        try (NativeModel m = NativeModel.load(gguf, new NativeModel.Settings(1, 256, 1, 16, -1, 0,
                NativeModel.NO_EMBEDDINGS, WeightLoading.MMAP))) {
            assertTrue(mapsOfThisProcess().contains(gguf.toString()), "mmap: the file is mapped");
            mapped = firstLogits(m);
        }
        assertArrayEquals(mapped, read);
        assertEquals(WeightLoading.READ, WeightLoading.chosen(), "read unless -Dbunshin.llama.load says otherwise");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> WeightLoading.parse("mapped", "-Dbunshin.llama.load"));
        assertTrue(e.getMessage().contains("-Dbunshin.llama.load") && e.getMessage().contains("'mapped'")
                && e.getMessage().contains("mmap"), e.getMessage());
    }

    private static float[] firstLogits(NativeModel m) {
        m.decode(new int[] {1, 7, 42}, null, new int[] {0, 1, 2}, new int[] {0, 0, 0}, new boolean[] {false, false, true}, 3);
        return m.logits(2);
    }

    private static String mapsOfThisProcess() throws java.io.IOException {
        return Files.readString(Path.of("/proc/self/maps"));
    }

    @Test
    void wrongReleaseIsRefusedNamingPathAndRelease(@TempDir Path dir) throws Exception {
        Path other = Files.createFile(dir.resolve("libllama.v0.4.9.so"));
        System.setProperty("bunshin.llama.lib", other.toString());
        try {
            LlamaUnavailableException e = assertThrows(LlamaUnavailableException.class, LlamaRelease::locate);
            assertTrue(e.getMessage().contains(other.toString()) && e.getMessage().contains("v0.4.9")
                    && e.getMessage().contains("v0.5.0"), e.getMessage());
            Path missing = dir.resolve("nowhere/libllama.so");
            System.setProperty("bunshin.llama.lib", missing.toString());
            e = assertThrows(LlamaUnavailableException.class, LlamaRelease::locate);
            assertTrue(e.getMessage().contains(missing.toString()) && e.getMessage().contains("v0.5.0"), e.getMessage());
        } finally {
            System.clearProperty("bunshin.llama.lib");
        }
    }
}
