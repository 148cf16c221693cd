package dev.bunshin.models.catalog;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The models one can run: those Ollama has pulled, and GGUF files in configured directories. A model is named
 * by a path to a {@code .gguf} file, by a file's name without {@code .gguf} (looked up in the directories), or
 * by an Ollama name such as {@code qwen2.5:0.5b}.
 */
public final class ModelCatalog {

    /** Directories to scan, separated by the path separator, in addition to those passed in. */
    public static final String DIRS_ENV = "BUNSHIN_MODEL_DIRS";

    private final OllamaStore ollama; // may be null
    private final List<Path> dirs;

    /**
     * A model found in the catalogue.
     *
     * @param id     the Ollama name, or the file name without {@code .gguf}
     * @param source {@code ollama} or {@code file}
     * @param path   the GGUF file (null when an Ollama manifest points nowhere)
     */
    public record Entry(String id, String source, Path path) {}

    /** A listed entry with what its file says, or why it could not be read. */
    public record Listing(Entry entry, ModelInfo info, String problem) {
        /** Null if the model can run, else why not. */
        public String reason() {
            return problem != null ? problem : info.unsupportedReason();
        }
    }

    public ModelCatalog(OllamaStore ollama, List<Path> dirs) {
        this.ollama = ollama;
        this.dirs = List.copyOf(Objects.requireNonNull(dirs, "dirs == null"));
    }

    /** The default Ollama store, the given directories and those of {@code $BUNSHIN_MODEL_DIRS}. */
    public static ModelCatalog withDefaults(List<Path> extraDirs) {
        List<Path> all = new ArrayList<>(extraDirs);
        String env = System.getenv(DIRS_ENV);
        if (env != null) {
            for (String d : env.split(java.io.File.pathSeparator)) {
                if (!d.isBlank()) all.add(Path.of(d));
            }
        }
        return new ModelCatalog(OllamaStore.atDefaultRoot(), all);
    }

    public List<Path> dirs() {
        return dirs;
    }

    public OllamaStore ollama() {
        return ollama;
    }

    /** All models: Ollama's first, then files by directory; never throws for one bad model. */
    public List<Listing> list() {
        List<Listing> out = new ArrayList<>();
        for (Entry e : entries()) {
            out.add(describe(e));
        }
        return out;
    }

    private static Listing describe(Entry e) {
        if (e.path() == null) {
            return new Listing(e, null, "no model file");
        }
        try {
            return new Listing(e, ModelInfo.read(e.path()), null);
        } catch (IOException | RuntimeException ex) {
            return new Listing(e, null, "unreadable: " + ex.getMessage());
        }
    }

    /** The entries without reading their files. */
    public List<Entry> entries() {
        List<Entry> out = new ArrayList<>();
        if (ollama != null) {
            for (OllamaStore.Model m : ollama.list()) {
                out.add(new Entry(m.name(), "ollama", m.problem() == null ? m.blob() : null));
            }
        }
        for (Path dir : dirs) {
            for (Path f : ggufFiles(dir)) {
                out.add(new Entry(idOf(f), "file", f));
            }
        }
        return out;
    }

    /**
     * Resolves what a user typed.
     *
     * @throws ModelNotFoundException listing the available ids when nothing matches
     */
    public Entry resolve(String model) {
        Objects.requireNonNull(model, "model == null");
        Path p = Path.of(model);
        if (Files.isRegularFile(p)) {
            return new Entry(idOf(p), "file", p);
        }
        if (model.endsWith(".gguf")) {
            throw new ModelNotFoundException("model file " + model + " does not exist");
        }
        for (Path dir : dirs) {
            for (Path f : ggufFiles(dir)) {
                if (idOf(f).equals(model)) return new Entry(model, "file", f);
            }
        }
        if (ollama != null) {
            Optional<OllamaStore.Model> m = ollama.find(model);
            if (m.isPresent()) {
                if (m.get().problem() != null) {
                    throw new ModelNotFoundException("Ollama model " + model + " cannot be used: " + m.get().problem());
                }
                return new Entry(m.get().name(), "ollama", m.get().blob());
            }
        }
        List<String> ids = entries().stream().map(Entry::id).toList();
        throw new ModelNotFoundException("model " + model + " not found: not a file, not in "
                + (dirs.isEmpty() ? "any model directory" : "model directories " + dirs)
                + (ollama == null ? "" : ", not pulled in the Ollama store at " + ollama.root())
                + (ids.isEmpty() ? "; no models available (pass a .gguf path, --dir DIR, or set $" + DIRS_ENV + ")"
                : "; available: " + String.join(", ", ids)));
    }

    /** {@code /x/stories260K.gguf} → {@code stories260K}. */
    public static String idOf(Path file) {
        String n = file.getFileName().toString();
        return n.endsWith(".gguf") ? n.substring(0, n.length() - 5) : n;
    }

    private static List<Path> ggufFiles(Path dir) {
        if (!Files.isDirectory(dir)) return List.of();
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(f -> f.getFileName().toString().endsWith(".gguf") && Files.isRegularFile(f)).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list model directory " + dir, e);
        }
    }
}
