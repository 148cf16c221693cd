package dev.bunshin.launcher;

import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
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

    static final String CATALOG = "dev.bunshin.engine.catalog.ModelCatalog";
    static final String SYNTHETIC = "dev.bunshin.engine.model.SyntheticModel";

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
                    "--model " + model + ": no such file" + (catalogPresent() ? ", and the model catalogue does not know it"
                            : " (Ollama names need " + CATALOG + ", not built into this launcher)")));
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

    // TODO(merge): ModelCatalog (cli helper) and SyntheticModel (quants helper) were not on main when this was
    // written; they are reached by reflection so that this module compiles without them and uses them once they
    // are merged. Replace with direct calls then.

    private static boolean catalogPresent() {
        return loadClass(CATALOG) != null;
    }

    /** {@code ModelCatalog.withDefaults(List.of()).resolve(name)} → its Entry(id, source, path). */
    private static Optional<ModelChoice> catalogResolve(String name) {
        Object catalog = catalog();
        if (catalog == null) {
            return Optional.empty();
        }
        try {
            Object entry = catalog.getClass().getMethod("resolve", String.class).invoke(catalog, name);
            return Optional.ofNullable(entry).map(ModelChoice::fromEntry);
        } catch (InvocationTargetException e) {
            throw new IllegalArgumentException("--model " + name + ": " + e.getCause().getMessage(), e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(CATALOG + " does not have the expected resolve(String)", e);
        }
    }

    /** The smallest runnable-looking model of the catalogue (Ollama's first: that is where users keep models). */
    private static Optional<ModelChoice> catalogSmallest() {
        Object catalog = catalog();
        if (catalog == null) {
            return Optional.empty();
        }
        try {
            List<?> entries = (List<?>) catalog.getClass().getMethod("entries").invoke(catalog);
            return entries.stream()
                    .map(ModelChoice::fromEntry)
                    .filter(c -> c != null && Files.isRegularFile(c.path()))
                    .min(Comparator.comparingLong(ModelChoice::sizeBytes));
        } catch (ReflectiveOperationException | RuntimeException e) {
            return Optional.empty();
        }
    }

    private static Object catalog() {
        Class<?> type = loadClass(CATALOG);
        if (type == null) {
            return null;
        }
        try {
            return type.getMethod("withDefaults", List.class).invoke(null, List.of());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(CATALOG + " does not have the expected withDefaults(List<Path>)", e);
        }
    }

    private static ModelChoice fromEntry(Object entry) {
        try {
            Path path = (Path) entry.getClass().getMethod("path").invoke(entry);
            String id = (String) entry.getClass().getMethod("id").invoke(entry);
            return path == null ? null : new ModelChoice(path.toAbsolutePath(), id, false);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(CATALOG + ".Entry does not have path() and id()", e);
        }
    }

    /** Generates (once) a small random-weight model with the engine's SyntheticModel. */
    private static ModelChoice synthetic(Path file) {
        if (Files.isRegularFile(file)) {
            return new ModelChoice(file.toAbsolutePath(), idOf(file), true);
        }
        Class<?> type = loadClass(SYNTHETIC);
        if (type == null) {
            throw new IllegalStateException("no model given, none found in the model catalogue, and " + SYNTHETIC
                    + " is not available to generate one: pass --model PATH.gguf");
        }
        try {
            Files.createDirectories(file.getParent());
            for (Method m : type.getMethods()) {
                if (Modifier.isStatic(m.getModifiers()) && m.getParameterCount() == 1
                        && m.getParameterTypes()[0] == Path.class) {
                    m.invoke(null, file);
                    if (Files.isRegularFile(file)) {
                        return new ModelChoice(file.toAbsolutePath(), idOf(file), true);
                    }
                }
            }
        } catch (IOException | ReflectiveOperationException e) {
            throw new IllegalStateException("cannot generate a synthetic model into " + file, e);
        }
        throw new IllegalStateException(SYNTHETIC + " has no static method (Path) that writes a model: pass --model");
    }

    private static Class<?> loadClass(String name) {
        try {
            return Class.forName(name);
        } catch (ClassNotFoundException e) {
            return null;
        }
    }
}
