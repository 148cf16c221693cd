package dev.bunshin.cli;

import dev.bunshin.models.catalog.ModelCatalog;
import dev.bunshin.models.catalog.OllamaStore;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** Resolving the MODEL argument through the catalogue ({@code --dir} directories, Ollama's store). */
final class ModelArgs {
    private ModelArgs() {}

    /** The options every model command takes. */
    static final Set<String> OPTIONS = Set.of("dir", "ollama");

    /** {@code --dir D} (repeatable) and {@code $BUNSHIN_MODEL_DIRS}; {@code --ollama ROOT} or the default store. */
    static ModelCatalog catalog(Args a) {
        ModelCatalog c = ModelCatalog.withDefaults(a.all("dir").stream().map(Path::of).toList());
        String root = a.get("ollama", null);
        return root == null ? c : new ModelCatalog(new OllamaStore(Path.of(root)), c.dirs());
    }

    /** The model's file; a usage-level error listing what is available when it is not found. */
    static ModelCatalog.Entry resolve(Args a, String model) {
        return catalog(a).resolve(model);
    }

    /** {@code OPTIONS} plus a command's own. */
    static Set<String> with(String... own) {
        Set<String> s = new HashSet<>(OPTIONS);
        s.addAll(List.of(own));
        return s;
    }
}
