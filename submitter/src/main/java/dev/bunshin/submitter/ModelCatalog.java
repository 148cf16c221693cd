package dev.bunshin.submitter;

import io.quarkus.runtime.Startup;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The models requests may name. Bunshin serves one model at a time ({@code bunshin.model}, id
 * {@code bunshin.model-id}); a request without {@code model} gets it, a request naming another is refused.
 * Loaded at startup so a bad path fails the boot with the path in the message, not the first request.
 */
@Startup
@ApplicationScoped
public class ModelCatalog {

    private static final Logger LOG = Logger.getLogger(ModelCatalog.class);

    private final ServedModel model;

    ModelCatalog(@ConfigProperty(name = "bunshin.model") Optional<String> path,
                 @ConfigProperty(name = "bunshin.model-id") Optional<String> id) {
        if (path.isEmpty() || path.get().isBlank()) {
            throw new IllegalStateException("bunshin.model is not set: give the path of the .gguf file to serve "
                    + "(-Dbunshin.model=/path/model.gguf or BUNSHIN_MODEL)");
        }
        Path p = Path.of(path.get());
        if (!Files.isRegularFile(p)) {
            throw new IllegalStateException("bunshin.model=" + p + ": no such file");
        }
        try {
            this.model = ServedModel.open(p, id.orElse(null));
        } catch (IOException e) {
            throw new UncheckedIOException("bunshin.model=" + p + ": " + e.getMessage(), e);
        }
        LOG.infof("serving model %s (%s, %s, context %d) from %s", model.id(), model.displayName(),
                model.architecture(), model.contextLength(), p);
    }

    public ServedModel defaultModel() {
        return model;
    }

    public List<ServedModel> all() {
        return List.of(model);
    }

    /** The model a request names; null or blank means the default. Unknown: 404 naming the field. */
    public ServedModel resolve(String name, String param) {
        if (name == null || name.isBlank()) {
            return model;
        }
        if (model.answersTo(name)) {
            return model;
        }
        throw ApiException.notFound(param, "model_not_found", "model '" + name + "' does not exist; this server serves '"
                + model.id() + "' (GET /v1/models)");
    }

    @PreDestroy
    void close() {
        model.close();
    }
}
