package dev.bunshin.launcher;

import java.io.IOException;
import dev.bunshin.models.catalog.ModelCatalog;
import dev.bunshin.models.synthetic.SyntheticModel;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * The model {@code up} serves: its .gguf file, its id (the Ollama name, or the file name without .gguf), and
 * whether it is a generated random-weight model (whose text is noise).
 */
record ModelChoice(Path path, String id, boolean synthetic) {

    /**
     * A path to a .gguf file; else a name looked up in the model catalogue (Ollama's store, model directories);
     * with no name, the smallest model the catalogue knows, else a synthetic model generated into
     * {@code dataDir/models}.
     */
    static ModelChoice resolve(String model, Path dataDir) {
        if (model != null) {
            Path file = Path.of(model);
            if (Files.isRegularFile(file)) {
                return new ModelChoice(file.toAbsolutePath(), idOf(file), false);
            }
            return catalogResolve(model).orElseThrow(() -> new IllegalArgumentException(
                    "--model " + model + ": no such file, and the model catalogue does not know it"));
        }
        Optional<ModelChoice> smallest = catalogSmallest();
        if (smallest.isPresent()) {
            return smallest.get();
        }
        return synthetic(dataDir.resolve("models").resolve("synthetic.gguf"));
    }

    static String idOf(Path file) {
        String name = file.getFileName().toString();
        return name.endsWith(".gguf") ? name.substring(0, name.length() - ".gguf".length()) : name;
    }

    long sizeBytes() {
        try {
            return Files.size(path);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read model " + path, e);
        }
    }

    /** The catalogue's entry for a name (an Ollama name, or a file name in the model directories). */
    private static Optional<ModelChoice> catalogResolve(String name) {
        try {
            ModelCatalog.Entry entry = ModelCatalog.withDefaults(List.of()).resolve(name);
            return Optional.ofNullable(entry).map(ModelChoice::fromEntry);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("--model " + name + ": " + e.getMessage(), e);
        }
    }

    /** The smallest model of the catalogue that exists on disk. */
    private static Optional<ModelChoice> catalogSmallest() {
        try {
            return ModelCatalog.withDefaults(List.of()).list().stream()
                    .filter(l -> l.problem() == null)
                    .map(l -> fromEntry(l.entry()))
                    .filter(c -> c != null && Files.isRegularFile(c.path()))
                    .min(Comparator.comparingLong(ModelChoice::sizeBytes));
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    private static ModelChoice fromEntry(ModelCatalog.Entry entry) {
        return entry.path() == null ? null : new ModelChoice(entry.path().toAbsolutePath(), entry.id(), false);
    }

    /** Generates (once) a small random-weight llama model (Q8_0) with the engine's SyntheticModel. */
    private static ModelChoice synthetic(Path file) {
        if (!Files.isRegularFile(file)) {
            try {
                Files.createDirectories(file.getParent());
                SyntheticModel.write(file, SyntheticModel.tiny("llama", SyntheticModel.Mix.Q8_0));
            } catch (IOException e) {
                throw new IllegalStateException("cannot generate a synthetic model into " + file + ": " + e.getMessage(), e);
            }
        }
        return new ModelChoice(file.toAbsolutePath(), idOf(file), true);
    }
}
