package dev.bunshin.submitter.model;

import dev.bunshin.submitter.api.ApiException;
import dev.bunshin.db.PlanTable;
import io.quarkus.runtime.Startup;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import javax.sql.DataSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;

/**
 * The models requests may name. Bunshin serves one model at a time ({@code bunshin.model}, id
 * {@code bunshin.model-id}); a request without {@code model} gets it, a request naming another is refused.
 * Loaded at startup so a bad path fails the boot with the path in the message, not the first request.
 */
@Startup
@ApplicationScoped
public class ServedModels {

    private static final Logger LOG = Logger.getLogger(ServedModels.class);

    private final ServedModel model;

    ServedModels(@ConfigProperty(name = "bunshin.model") Optional<String> path,
                 @ConfigProperty(name = "bunshin.model-id") Optional<String> id, DataSource db) {
        if (path.isEmpty() || path.get().isBlank()) {
            throw new IllegalStateException("bunshin.model is not set: give the path of the .gguf file to serve "
                    + "(-Dbunshin.model=/path/model.gguf or BUNSHIN_MODEL)");
        }
        Path p = Path.of(path.get());
        if (!Files.isRegularFile(p)) {
            throw new IllegalStateException("bunshin.model=" + p + ": no such file");
        }
        try {
            String modelId = id.filter(s -> !s.isBlank()).orElse(ServedModel.defaultId(p));
            this.model = ServedModel.open(p, modelId, () -> plannedContextLength(db, modelId));
        } catch (IOException e) {
            throw new UncheckedIOException("bunshin.model=" + p + ": " + e.getMessage(), e);
        }
        LOG.infof("serving model %s (%s, %s, trained context %d) from %s", model.id(), model.displayName(),
                model.architecture(), model.trainedContextLength(), p);
    }

    /** One indexed read per request, so a re-plan with another context length applies at once. */
    private static int plannedContextLength(DataSource db, String modelId) {
        try (Connection c = db.getConnection()) {
            return PlanTable.currentContextLength(c, modelId);
        } catch (SQLException e) {
            throw new IllegalStateException("reading the stage plan of " + modelId + ": " + e.getMessage(), e);
        }
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
