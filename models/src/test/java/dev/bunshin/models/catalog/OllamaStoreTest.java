package dev.bunshin.models.catalog;

import dev.bunshin.engine.TestModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OllamaStoreTest {

    // Any host name: the store looks short names up under every registry directory.
    private static final String REGISTRY = "registry.example";

    @Test
    void listsAndFindsModelsByShortNames(@TempDir Path tmp) throws Exception {
        FakeOllamaStore fake = new FakeOllamaStore(tmp);
        Path blob = fake.add(REGISTRY, "library", "stories", "260k", TestModels.stories260K());
        Path latest = fake.add(REGISTRY, "library", "stories", "latest", TestModels.stories260K());
        Path q8 = fake.add(REGISTRY, "alice", "tiny", "q8", TestModels.stories260KQ8());
        OllamaStore store = new OllamaStore(tmp);

        List<OllamaStore.Model> models = store.list();
        assertEquals(List.of("alice/tiny:q8", "stories:260k", "stories:latest"),
                models.stream().map(OllamaStore.Model::name).toList());
        assertTrue(models.stream().allMatch(m -> m.problem() == null), models.toString());

        assertEquals(blob, store.find("stories:260k").orElseThrow().blob());
        assertEquals(latest, store.find("stories").orElseThrow().blob(), "the tag defaults to latest");
        assertEquals(q8, store.find("alice/tiny:q8").orElseThrow().blob());
        assertEquals(q8, store.find(REGISTRY + "/alice/tiny:q8").orElseThrow().blob());
        assertTrue(store.find("stories:1b").isEmpty());
        assertTrue(store.find("bob/tiny:q8").isEmpty());
    }

    @Test
    void reportsBrokenManifestsInsteadOfFailing(@TempDir Path tmp) throws Exception {
        FakeOllamaStore fake = new FakeOllamaStore(tmp);
        fake.writeManifest(REGISTRY, "library", "ghost", "latest", """
                {"layers":[{"mediaType":"application/vnd.ollama.image.model","digest":"sha256:%s","size":1}]}
                """.formatted("a".repeat(64)));
        fake.writeManifest(REGISTRY, "library", "nomodel", "latest", "{\"layers\":[]}");
        fake.writeManifest(REGISTRY, "library", "garbage", "latest", "{not json");
        OllamaStore store = new OllamaStore(tmp);
        List<OllamaStore.Model> models = store.list();
        assertEquals(3, models.size());
        OllamaStore.Model ghost = store.find("ghost").orElseThrow();
        assertTrue(ghost.problem().contains("missing"), ghost.problem());
        assertTrue(store.find("nomodel").orElseThrow().problem().contains("application/vnd.ollama.image.model"));
        assertTrue(store.find("garbage").orElseThrow().problem().contains("unreadable manifest"));
    }

    @Test
    void sameShortNameInTwoRegistriesIsAmbiguous(@TempDir Path tmp) throws Exception {
        FakeOllamaStore fake = new FakeOllamaStore(tmp);
        fake.add("one.example", "library", "m", "latest", TestModels.stories260K());
        fake.add("two.example", "library", "m", "latest", TestModels.stories260K());
        OllamaStore store = new OllamaStore(tmp);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> store.find("m"));
        assertTrue(e.getMessage().contains("one.example/library/m:latest"), e.getMessage());
        assertEquals(List.of("one.example/library/m:latest", "two.example/library/m:latest"),
                store.list().stream().map(OllamaStore.Model::name).toList());
        assertTrue(store.find("two.example/library/m").isPresent());
    }

    @Test
    void missingStoreListsNothing(@TempDir Path tmp) {
        OllamaStore store = new OllamaStore(tmp.resolve("absent"));
        assertEquals(List.of(), store.list());
        assertTrue(store.find("qwen2.5:0.5b").isEmpty());
    }

    @Test
    void splitsNames() {
        assertArrayEquals(new String[]{null, "library", "qwen2.5", "0.5b"}, OllamaStore.split("qwen2.5:0.5b"));
        assertArrayEquals(new String[]{null, "library", "llama3", "latest"}, OllamaStore.split("llama3"));
        assertArrayEquals(new String[]{null, "user", "model", "tag"}, OllamaStore.split("user/model:tag"));
        assertArrayEquals(new String[]{"host:5000", "ns", "m", "latest"}, OllamaStore.split("host:5000/ns/m"));
        assertNull(OllamaStore.split("a//b"));
        assertNull(OllamaStore.split("../etc/passwd"));
        assertNull(OllamaStore.split("a/b/c/d"));
    }
}
