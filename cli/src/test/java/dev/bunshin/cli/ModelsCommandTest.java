package dev.bunshin.cli;

import dev.bunshin.engine.TestModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelsCommandTest {

    /** An Ollama store holding stories260K as {@code stories:260k}. */
    static Path fakeOllama(Path root) throws Exception {
        byte[] bytes = Files.readAllBytes(TestModels.stories260K());
        String hex = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        Path blob = Files.createDirectories(root.resolve("blobs")).resolve("sha256-" + hex);
        Files.write(blob, bytes);
        Path manifest = root.resolve("manifests/registry.example/library/stories/260k");
        Files.createDirectories(manifest.getParent());
        Files.writeString(manifest, """
                {"schemaVersion":2,"layers":[{"mediaType":"application/vnd.ollama.image.model",
                "digest":"sha256:%s","size":%d}]}""".formatted(hex, bytes.length));
        return root;
    }

    @Test
    void listsOllamaAndDirectoryModelsWithReasons(@TempDir Path tmp) throws Exception {
        Path ollama = fakeOllama(tmp.resolve("ollama"));
        Cli r = Cli.run("models", "--ollama", ollama.toString(), "--dir", TestModels.stories260K().getParent().toString());
        assertEquals(0, r.status(), r.toString());
        String stories = r.out().lines().filter(l -> l.startsWith("stories:260k ")).findFirst().orElseThrow();
        assertTrue(stories.matches("stories:260k\\s+ollama\\s+llama\\s+5\\s+293K\\s+F32\\s+1.13 MiB\\s+ok"), stories);
        String q8 = r.out().lines().filter(l -> l.startsWith("tinyllamas-stories-260k-q8_0 ")).findFirst().orElseThrow();
        assertTrue(q8.matches("tinyllamas-stories-260k-q8_0\\s+file\\s+llama\\s+5\\s+293K\\s+Q8_0\\s+320 KiB\\s+ok"), q8);
        Cli vocab = Cli.run("models", "--ollama", ollama.toString(), "--dir",
                TestModels.require("vocab/ggml-vocab-gpt-2.gguf").getParent().toString());
        String gpt2 = vocab.out().lines().filter(l -> l.startsWith("ggml-vocab-gpt-2 ")).findFirst().orElseThrow();
        assertTrue(gpt2.endsWith("cannot run: no tensors (a vocabulary-only file)"), gpt2);
    }

    @Test
    void ollamaNamesWorkAsModelArguments(@TempDir Path tmp) throws Exception {
        Path ollama = fakeOllama(tmp.resolve("ollama"));
        Cli r = Cli.run("inspect", "stories:260k", "--ollama", ollama.toString());
        assertEquals(0, r.status(), r.toString());
        assertTrue(r.out().startsWith("model          stories:260k (Ollama)"), r.out());
    }
}
