package dev.bunshin.worker;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/**
 * {@code /q/health/ready}: UP once the worker has loaded the current stage plan (with a stage, or with none when
 * the plan has no room for it), DOWN before the first plan, after a fatal error, and while the database is unavailable (the worker retries
 * meanwhile; nothing exits). The launcher waits on it.
 */
@Readiness
@ApplicationScoped
public class StageWorkerReadiness implements HealthCheck {

    @Inject
    StageWorkerApp app;

    @Override
    public HealthCheckResponse call() {
        StageWorker w = app.worker();
        var r = HealthCheckResponse.named("stage-worker");
        if (w == null) return r.down().withData("state", "starting").build();
        if (w.failure() != null) return r.down().withData("error", String.valueOf(w.failure())).build();
        String outage = w.databaseOutage();
        if (outage != null) return r.down().withData("database", "unavailable, retrying: " + outage).build();
        if (w.epoch() == 0) return r.down().withData("state", "waiting for a stage plan").build();
        var stage = w.stage();
        return r.up().withData("epoch", w.epoch())
                .withData("stage", stage == null ? "none" : stage.index() + " [" + stage.layerStart() + ", " + stage.layerEnd() + ")")
                .build();
    }
}
