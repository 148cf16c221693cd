package dev.bunshin.models.catalog;

import dev.bunshin.engine.sample.grammar.Json;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The models an Ollama installation has pulled, read straight from its directory (Ollama need not run).
 *
 * <p>Layout: {@code manifests/<registry>/<namespace>/<name>/<tag>} is a JSON manifest whose {@code layers} hold
 * one with {@code mediaType} {@value #MODEL_MEDIA_TYPE}; its {@code digest} {@code sha256:<hex>} names the GGUF
 * file {@code blobs/sha256-<hex>}. Users write {@code name[:tag]} for the public library (namespace
 * {@code library}), {@code namespace/name[:tag]} for a user's models, or {@code registry/namespace/name[:tag]};
 * the tag defaults to {@code latest}. A short name is looked up under every registry directory, so the
 * registry's host need not be known here; two registries holding the same short name make it ambiguous.
 */
public final class OllamaStore {

    public static final String MODEL_MEDIA_TYPE = "application/vnd.ollama.image.model";
    private static final String LIBRARY = "library";
    private static final String DEFAULT_TAG = "latest";

    private final Path root; // holds manifests/ and blobs/

    public OllamaStore(Path root) {
        this.root = root;
    }

    /** {@code $OLLAMA_MODELS}, else {@code ~/.ollama/models}. */
    public static OllamaStore atDefaultRoot() {
        String env = System.getenv("OLLAMA_MODELS");
        Path root = env != null && !env.isBlank() ? Path.of(env)
                : Path.of(System.getProperty("user.home"), ".ollama", "models");
        return new OllamaStore(root);
    }

    public Path root() {
        return root;
    }

    /**
     * A pulled model.
     *
     * @param name     the short name users type, e.g. {@code qwen2.5:0.5b} or {@code user/model:tag}
     * @param fullName {@code registry/namespace/name:tag}
     * @param manifest its manifest file
     * @param blob     the GGUF blob, or null if the manifest has no model layer
     * @param problem  null, or why the model cannot be used (manifest unreadable, blob missing)
     */
    public record Model(String name, String fullName, Path manifest, Path blob, String problem) {}

    /** All pulled models, sorted by name; an empty list if the store does not exist. */
    public List<Model> list() {
        Path manifests = root.resolve("manifests");
        if (!Files.isDirectory(manifests)) return List.of();
        List<Path> files;
        try (Stream<Path> s = Files.walk(manifests, 4)) {
            files = s.filter(Files::isRegularFile)
                    .filter(p -> manifests.relativize(p).getNameCount() == 4)
                    .sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list Ollama manifests in " + manifests, e);
        }
        List<Model> out = new ArrayList<>();
        for (Path f : files) {
            Path rel = manifests.relativize(f);
            out.add(load(rel.getName(0).toString(), rel.getName(1).toString(), rel.getName(2).toString(),
                    rel.getName(3).toString()));
        }
        // Short names are only short when one registry holds them.
        List<Model> named = new ArrayList<>();
        for (Model m : out) {
            long same = out.stream().filter(o -> o.name.equals(m.name)).count();
            named.add(same > 1 ? new Model(m.fullName, m.fullName, m.manifest, m.blob, m.problem) : m);
        }
        named.sort(Comparator.comparing(Model::name));
        return List.copyOf(named);
    }

    /**
     * The model a user's name stands for, if pulled.
     *
     * @throws IllegalArgumentException if the short name is held by several registries (naming them)
     */
    public Optional<Model> find(String userName) {
        String[] parts = split(userName);
        if (parts == null) return Optional.empty();
        String registry = parts[0], namespace = parts[1], name = parts[2], tag = parts[3];
        Path manifests = root.resolve("manifests");
        if (registry != null) {
            Path f = manifests.resolve(registry).resolve(namespace).resolve(name).resolve(tag);
            return Files.isRegularFile(f) ? Optional.of(load(registry, namespace, name, tag)) : Optional.empty();
        }
        if (!Files.isDirectory(manifests)) return Optional.empty();
        List<Model> found = new ArrayList<>();
        try (Stream<Path> regs = Files.list(manifests)) {
            for (Path reg : regs.sorted().toList()) {
                Path f = reg.resolve(namespace).resolve(name).resolve(tag);
                if (Files.isRegularFile(f)) {
                    found.add(load(reg.getFileName().toString(), namespace, name, tag));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list Ollama manifests in " + manifests, e);
        }
        if (found.size() > 1) {
            throw new IllegalArgumentException("Ollama model name " + userName + " is ambiguous: "
                    + found.stream().map(Model::fullName).toList() + "; give the registry too");
        }
        return found.stream().findFirst();
    }

    /**
     * Splits {@code [registry/][namespace/]name[:tag]} into {registry or null, namespace, name, tag}, or null
     * if it is not such a name.
     */
    static String[] split(String userName) {
        if (userName == null || userName.isBlank() || userName.contains("\\") || userName.contains("..")) return null;
        String path = userName;
        String tag = DEFAULT_TAG;
        int slash = userName.lastIndexOf('/');
        int colon = userName.lastIndexOf(':');
        if (colon > slash) {
            path = userName.substring(0, colon);
            tag = userName.substring(colon + 1);
        }
        String[] segs = path.split("/", -1);
        for (String s : segs) if (s.isEmpty()) return null;
        if (tag.isEmpty()) return null;
        return switch (segs.length) {
            case 1 -> new String[]{null, LIBRARY, segs[0], tag};
            case 2 -> new String[]{null, segs[0], segs[1], tag};
            case 3 -> new String[]{segs[0], segs[1], segs[2], tag};
            default -> null;
        };
    }

    private Model load(String registry, String namespace, String name, String tag) {
        Path manifest = root.resolve("manifests").resolve(registry).resolve(namespace).resolve(name).resolve(tag);
        String shortName = (LIBRARY.equals(namespace) ? "" : namespace + "/") + name + ":" + tag;
        String fullName = registry + "/" + namespace + "/" + name + ":" + tag;
        String digest;
        try {
            digest = modelDigest(Json.parse(Files.readString(manifest)));
        } catch (IOException | RuntimeException e) {
            return new Model(shortName, fullName, manifest, null, "unreadable manifest " + manifest + ": " + e.getMessage());
        }
        if (digest == null) {
            return new Model(shortName, fullName, manifest, null, "manifest " + manifest + " has no layer of type "
                    + MODEL_MEDIA_TYPE);
        }
        if (!digest.matches("sha256:[0-9a-fA-F]+")) {
            return new Model(shortName, fullName, manifest, null, "manifest " + manifest + " has a bad digest " + digest);
        }
        Path blob = root.resolve("blobs").resolve(digest.replace(':', '-'));
        return new Model(shortName, fullName, manifest, blob,
                Files.isRegularFile(blob) ? null : "blob " + blob + " of manifest " + manifest + " is missing");
    }

    private static String modelDigest(Object manifest) {
        if (manifest instanceof Map<?, ?> m && m.get("layers") instanceof List<?> layers) {
            for (Object l : layers) {
                if (l instanceof Map<?, ?> layer && MODEL_MEDIA_TYPE.equals(layer.get("mediaType"))
                        && layer.get("digest") instanceof String d) {
                    return d;
                }
            }
        }
        return null;
    }
}
