package dev.bunshin.cli;

import dev.bunshin.engine.catalog.ModelCatalog;

import java.nio.file.Path;
import java.util.List;

/** Resolving the MODEL argument through the catalogue ({@code --dir} directories, Ollama's store). */
final class ModelArgs {
    private ModelArgs() {}

    static ModelCatalog catalog(Args a) {
        return ModelCatalog.withDefaults(a.all("dir").stream().map(Path::of).toList());
    }

    /** The model's file; a usage-level error listing what is available when it is not found. */
    static ModelCatalog.Entry resolve(Args a, String model) {
        return catalog(a).resolve(model);
    }

    static List<String> dirOption() {
        return List.of("dir");
    }
}
