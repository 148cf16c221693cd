package dev.bunshin.scheduler;

import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import javax.sql.DataSource;
import java.nio.file.Path;
import java.time.Duration;

/** Quarkus edge: builds the {@link SchedulerService} from configuration and runs it while the app runs. */
@ApplicationScoped
public class SchedulerApp {

    @Inject
    DataSource db;
    /** Served at /q/metrics (quarkus-micrometer-registry-prometheus). */
    @Inject
    MeterRegistry registry;

    @ConfigProperty(name = "bunshin.model-id")
    String modelId;
    @ConfigProperty(name = "bunshin.model")
    String model;
    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;
    @ConfigProperty(name = "bunshin.scheduler.expected-workers", defaultValue = "1")
    int expectedWorkers;
    @ConfigProperty(name = "bunshin.scheduler.grace", defaultValue = "30s")
    Duration grace;
    @ConfigProperty(name = "bunshin.scheduler.heartbeat-timeout", defaultValue = "10s")
    Duration heartbeatTimeout;
    @ConfigProperty(name = "bunshin.scheduler.max-running", defaultValue = "32")
    int maxRunning;
    @ConfigProperty(name = "bunshin.scheduler.partitions", defaultValue = "1")
    int partitions;
    @ConfigProperty(name = "bunshin.scheduler.replication-factor", defaultValue = "-1")
    short replicationFactor;
    @ConfigProperty(name = "bunshin.max-record-bytes", defaultValue = "4194304")
    int maxRecordBytes;
    @ConfigProperty(name = "bunshin.context-length", defaultValue = "0")
    int contextLength;
    @ConfigProperty(name = "bunshin.scheduler.max-reprefill-tokens", defaultValue = "8192")
    int maxReprefillTokens;
    @ConfigProperty(name = "bunshin.scheduler.tick", defaultValue = "200ms")
    Duration tick;
    /** Unset: {@link SchedulerSettings#defaultReserve}. */
    @ConfigProperty(name = "bunshin.scheduler.interactive-reserve")
    java.util.Optional<Integer> interactiveReserve;
    @ConfigProperty(name = "bunshin.metrics.max-age", defaultValue = "5s")
    Duration metricsMaxAge;

    private SchedulerService service;
    /** Held here: a gauge holds its object weakly. */
    private ClusterMetrics metrics;

    void onStart(@Observes StartupEvent ev) throws Exception {
        service = new SchedulerService(db, new SchedulerSettings(modelId, Path.of(model), bootstrapServers,
                expectedWorkers, grace, heartbeatTimeout, maxRunning, partitions, replicationFactor, maxRecordBytes,
                contextLength, maxReprefillTokens, tick,
                interactiveReserve.orElse(SchedulerSettings.defaultReserve(maxRunning))));
        service.start();
        metrics = new ClusterMetrics(registry, db, modelId, metricsMaxAge);
    }

    void onStop(@Observes ShutdownEvent ev) {
        if (service != null) service.close();
    }

    SchedulerService service() {
        return service;
    }
}
