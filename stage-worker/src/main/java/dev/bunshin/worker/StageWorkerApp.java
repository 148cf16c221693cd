package dev.bunshin.worker;

import dev.bunshin.protocol.WirePrecision;
import io.micrometer.core.instrument.MeterRegistry;
import dev.bunshin.protocol.KafkaCredentials;
import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import javax.sql.DataSource;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * Quarkus edge: builds a {@link StageWorker} from configuration on StartupEvent (its poll loop runs on its own
 * thread, the kafka-bare-quickstart pattern) and exits the process with status 1 if the worker stops on a fatal
 * error, so a supervisor restarts it and the scheduler re-plans.
 */
@ApplicationScoped
public class StageWorkerApp {

    @Inject
    DataSource db;
    /** Served at /q/metrics (quarkus-micrometer-registry-prometheus). */
    @Inject
    MeterRegistry registry;

    @ConfigProperty(name = "bunshin.worker.id")
    String id;
    @ConfigProperty(name = "bunshin.model-id")
    String modelId;
    @ConfigProperty(name = "bunshin.model")
    String model;
    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;
    @ConfigProperty(name = "bunshin.worker.host")
    Optional<String> host;
    @ConfigProperty(name = "bunshin.worker.memory", defaultValue = "8G")
    String memory;
    @ConfigProperty(name = "bunshin.worker.threads", defaultValue = "1")
    int threads;
    @ConfigProperty(name = "bunshin.worker.speed", defaultValue = "0")
    double speed;
    @ConfigProperty(name = "bunshin.worker.heartbeat", defaultValue = "1s")
    Duration heartbeat;
    @ConfigProperty(name = "bunshin.worker.max-batch-tokens", defaultValue = "" + WorkerSettings.DEFAULT_MAX_BATCH_TOKENS)
    int maxBatchTokens;
    @ConfigProperty(name = "bunshin.worker.max-sequences", defaultValue = "64")
    int maxSequences;
    @ConfigProperty(name = "bunshin.worker.wire-precision", defaultValue = "f32")
    String precision;
    @ConfigProperty(name = "bunshin.max-record-bytes", defaultValue = "4194304")
    int maxRecordBytes;
    @ConfigProperty(name = "bunshin.worker.backend", defaultValue = "java")
    String backend;
    @ConfigProperty(name = "bunshin.worker.micro-batches", defaultValue = "0")
    int microBatches;

    @ConfigProperty(name = "bunshin.worker.delivery-timeout", defaultValue = "10m")
    Duration deliveryTimeout;

    /** Set when this worker joins a broker's authenticated listener from another machine (worker --join). */
    @ConfigProperty(name = "bunshin.kafka.username", defaultValue = KafkaCredentials.USER)
    String kafkaUsername;
    @ConfigProperty(name = "bunshin.kafka.password")
    Optional<String> kafkaPassword;

    private StageWorker worker;

    void onStart(@Observes StartupEvent ev) throws Exception {
        String h = host.orElse(InetAddress.getLocalHost().getHostName());
        worker = new StageWorker(db, new WorkerSettings(id, modelId, Path.of(model), bootstrapServers, h,
                dev.bunshin.models.plan.ByteSize.parse(memory), threads, speed, heartbeat, maxBatchTokens, maxSequences,
                WirePrecision.parse(precision), maxRecordBytes, backend, microBatches, deliveryTimeout,
                kafkaPassword.map(p -> new KafkaCredentials(kafkaUsername, p)).orElse(null)), registry);
        worker.onFatal(t -> Quarkus.asyncExit(1));
        worker.start();
    }

    /** The running worker, or null before start. */
    StageWorker worker() {
        return worker;
    }

    void onStop(@Observes ShutdownEvent ev) {
        if (worker != null) worker.close();
    }
}
