package dev.bunshin.engine;

import org.junit.jupiter.api.Assumptions;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Finds the real test models of {@code ../shared/models/} (or {@code $BUNSHIN_MODELS}, or the system property
 * {@code bunshin.models}). A test that needs one and cannot find it is skipped with a loud message on stderr,
 * never silently.
 */
public final class TestModels {
    private TestModels() {}

    /** The models directory, or null if none is found. */
    public static Path dirOrNull() {
        String env = System.getenv("BUNSHIN_MODELS");
        String prop = System.getProperty("bunshin.models");
        String shared = System.getProperty("bunshin.shared");
        Path[] candidates = {
                env == null ? null : Path.of(env),
                prop == null ? null : Path.of(prop),
                shared == null ? null : Path.of(shared, "models"),
                Path.of("../shared/models"),
                Path.of("../../shared/models"),
        };
        for (Path p : candidates) {
            if (p != null && Files.isDirectory(p)) {
                return p.toAbsolutePath().normalize();
            }
        }
        return null;
    }

    /** The path of a model file (relative to the models directory); skips the calling test loudly if absent. */
    public static Path require(String relative) {
        Path dir = dirOrNull();
        Path p = dir == null ? null : dir.resolve(relative);
        if (p == null || !Files.isRegularFile(p)) {
            String msg = "SKIPPED (loudly): test model " + relative + " not found; looked in $BUNSHIN_MODELS, "
                    + "-Dbunshin.models, -Dbunshin.shared/models and ../shared/models";
            System.err.println("\n*** " + msg + " ***\n");
            Assumptions.abort(msg);
        }
        return p;
    }

    public static Path stories260K() {
        return require("stories260K.gguf");
    }

    public static Path stories260KQ8() {
        return require("tinyllamas-stories-260k-q8_0.gguf");
    }
}
