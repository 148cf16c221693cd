package dev.bunshin.models.catalog;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Writes an Ollama-shaped model store (manifests + content-addressed blobs) into a temporary directory. */
final class FakeOllamaStore {
    private final Path root;

    FakeOllamaStore(Path root) {
        this.root = root;
    }

    Path root() {
        return root;
    }

    /** Adds a model whose GGUF blob holds {@code gguf}'s bytes; returns the blob path. */
    Path add(String registry, String namespace, String name, String tag, Path gguf) throws IOException {
        byte[] bytes = Files.readAllBytes(gguf);
        String hex = sha256(bytes);
        Path blob = root.resolve("blobs").resolve("sha256-" + hex);
        Files.createDirectories(blob.getParent());
        Files.write(blob, bytes);
        String manifest = """
                {"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",
                 "config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"sha256:%s","size":485},
                 "layers":[
                  {"mediaType":"application/vnd.ollama.image.license","digest":"sha256:%s","size":11},
                  {"mediaType":"application/vnd.ollama.image.model","digest":"sha256:%s","size":%d},
                  {"mediaType":"application/vnd.ollama.image.params","digest":"sha256:%s","size":42}]}
                """.formatted("0".repeat(64), "1".repeat(64), hex, bytes.length, "2".repeat(64));
        writeManifest(registry, namespace, name, tag, manifest);
        return blob;
    }

    void writeManifest(String registry, String namespace, String name, String tag, String json) throws IOException {
        Path m = root.resolve("manifests").resolve(registry).resolve(namespace).resolve(name).resolve(tag);
        Files.createDirectories(m.getParent());
        Files.writeString(m, json);
    }

    private static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }
}
