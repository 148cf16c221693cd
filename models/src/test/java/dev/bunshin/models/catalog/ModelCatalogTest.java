package dev.bunshin.models.catalog;

import dev.bunshin.engine.gguf.GgmlType;
import dev.bunshin.engine.TestModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelCatalogTest {

    @Test
    void listsOllamaModelsAndFilesWithReasons(@TempDir Path tmp) throws Exception {
        FakeOllamaStore fake = new FakeOllamaStore(tmp.resolve("ollama"));
        fake.add("registry.example", "library", "stories", "260k", TestModels.stories260K());
        Path dir = Files.createDirectories(tmp.resolve("models"));
        Files.copy(TestModels.stories260KQ8(), dir.resolve("old-q8.gguf"));
        new TinyGguf().kv("general.architecture", "phi3").kv("phi3.block_count", 1)
                .tensor("token_embd.weight", dev.bunshin.engine.gguf.GgmlType.F32, 8, 4).write(dir.resolve("phi.gguf"));
        new TinyGguf().kv("general.architecture", "llama").kv("llama.block_count", 1)
                .kv("llama.embedding_length", 256).kv("llama.attention.head_count", 4)
                .tensor("token_embd.weight", dev.bunshin.engine.gguf.GgmlType.IQ2_XXS, 256, 4).write(dir.resolve("iq2.gguf"));
        Files.copy(TestModels.require("vocab/ggml-vocab-gpt-2.gguf"), dir.resolve("vocab-only.gguf"));
        Files.writeString(dir.resolve("broken.gguf"), "not a model");
        Files.writeString(dir.resolve("notes.txt"), "ignored");
        ModelCatalog catalog = new ModelCatalog(new OllamaStore(fake.root()), List.of(dir));

        List<ModelCatalog.Listing> all = catalog.list();
        assertEquals(List.of("stories:260k", "broken", "iq2", "old-q8", "phi", "vocab-only"),
                all.stream().map(l -> l.entry().id()).toList());
        ModelCatalog.Listing stories = all.get(0);
        assertEquals("ollama", stories.entry().source());
        assertNull(stories.reason(), "stories260K can run");
        assertEquals("llama", stories.info().architecture());
        assertEquals(5, stories.info().nLayers());
        assertTrue(all.get(1).reason().contains("not a GGUF file"), all.get(1).reason());
        assertTrue(all.get(2).reason().contains("tensor type IQ2_XXS is not supported (e.g. tensor token_embd.weight"),
                all.get(2).reason());
        assertNull(all.get(3).reason(), "the engine reads v2 Q8_0 rows that cross block boundaries");
        assertTrue(all.get(4).reason().contains("architecture phi3 is not supported (supported: llama, qwen2, qwen3)"),
                all.get(4).reason());
        assertTrue(all.get(5).reason().contains("no tensors"), all.get(5).reason());
    }

    @Test
    void resolvesPathsIdsAndOllamaNames(@TempDir Path tmp) throws Exception {
        FakeOllamaStore fake = new FakeOllamaStore(tmp.resolve("ollama"));
        Path blob = fake.add("registry.example", "library", "stories", "260k", TestModels.stories260K());
        Path dir = Files.createDirectories(tmp.resolve("models"));
        Path file = Files.copy(TestModels.stories260K(), dir.resolve("tiny.gguf"));
        ModelCatalog catalog = new ModelCatalog(new OllamaStore(fake.root()), List.of(dir));

        ModelCatalog.Entry byPath = catalog.resolve(TestModels.stories260K().toString());
        assertEquals("stories260K", byPath.id());
        assertEquals(TestModels.stories260K(), byPath.path());
        assertEquals(file, catalog.resolve("tiny").path());
        ModelCatalog.Entry byName = catalog.resolve("stories:260k");
        assertEquals(blob, byName.path());
        assertEquals("stories:260k", byName.id());
    }

    @Test
    void unknownModelListsWhatIsAvailable(@TempDir Path tmp) throws Exception {
        FakeOllamaStore fake = new FakeOllamaStore(tmp.resolve("ollama"));
        fake.add("registry.example", "library", "stories", "260k", TestModels.stories260K());
        ModelCatalog catalog = new ModelCatalog(new OllamaStore(fake.root()), List.of());
        ModelNotFoundException e = assertThrows(ModelNotFoundException.class, () -> catalog.resolve("qwen2.5:0.5b"));
        assertTrue(e.getMessage().contains("qwen2.5:0.5b") && e.getMessage().contains("available: stories:260k"),
                e.getMessage());
        ModelNotFoundException missing = assertThrows(ModelNotFoundException.class,
                () -> catalog.resolve(tmp.resolve("nope.gguf").toString()));
        assertTrue(missing.getMessage().contains("nope.gguf"), missing.getMessage());
    }

    @Test
    void describesStories260K() throws Exception {
        ModelInfo m = ModelInfo.read(TestModels.stories260K());
        assertNull(m.unsupportedReason());
        assertEquals(3, m.ggufVersion());
        assertEquals(64, m.nEmbd());
        assertEquals(8, m.nHead());
        assertEquals(4, m.nHeadKv());
        assertEquals(8, m.headDim());
        assertEquals(172, m.nFf());
        assertEquals(512, m.nVocab());
        assertEquals(2048, m.contextLength());
        assertEquals("llama", m.tokenizerModel());
        assertNotNull(m.types().get(dev.bunshin.engine.gguf.GgmlType.F32));
        assertEquals(Files.size(TestModels.stories260K()), m.fileSize());
        assertEquals("F32", m.dominantType().name());
        assertTrue(m.parameterCount() > 200_000 && m.parameterCount() < 300_000, "≈260K: " + m.parameterCount());
        assertEquals("260K", ModelInfo.formatCount(260_000));
        assertEquals("1.10B", ModelInfo.formatCount(1_100_000_000L));
    }
}
