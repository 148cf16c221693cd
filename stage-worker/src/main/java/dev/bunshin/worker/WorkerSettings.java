package dev.bunshin.worker;

import dev.bunshin.llama.StageBackends;
import dev.bunshin.protocol.ActivationProducer;
import dev.bunshin.protocol.KafkaCredentials;
import dev.bunshin.protocol.WirePrecision;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * What a stage worker is told (configuration keys in parentheses). The context length is not among them: it comes
 * with the stage plan ({@code StagePlan.contextLength}), derived once by the scheduler.
 *
 * @param id               unique worker id ({@code bunshin.worker.id})
 * @param modelId          model id ({@code bunshin.model-id})
 * @param model            the GGUF file ({@code bunshin.model})
 * @param bootstrapServers Kafka ({@code kafka.bootstrap.servers})
 * @param host             reported to the scheduler ({@code bunshin.worker.host}, default the host name)
 * @param memoryBytes      budget for weights ({@code bunshin.worker.memory}, e.g. 8G)
 * @param threads          engine threads ({@code bunshin.worker.threads})
 * @param speedGflops      0 = measure at start: the model's first layer on this worker's backend ({@link SpeedProbe})
 *                         ({@code bunshin.worker.speed})
 * @param heartbeat        heartbeat interval ({@code bunshin.worker.heartbeat})
 * @param maxBatchTokens   cap on prompt positions per engine call, besides its decode steps
 *                         ({@code bunshin.worker.max-batch-tokens})
 * @param maxSequences     jobs with a KV cache at once ({@code bunshin.worker.max-sequences})
 * @param precision        wire precision of the activations this worker sends ({@code bunshin.worker.wire-precision})
 * @param maxRecordBytes   largest record value ({@code bunshin.max-record-bytes})
 * @param backend          what runs the layers: {@code java} or {@code llama.cpp} ({@code bunshin.worker.backend})
 * @param microBatches     on stage 0, how many waves the running jobs' decode steps are split into; 0 = one per stage
 *                         of the plan ({@code bunshin.worker.micro-batches})
 * @param deliveryTimeout  how long the producer retries a record before the worker resends it
 *                         ({@code bunshin.worker.delivery-timeout}; a broker outage is ridden out either way)
 * @param kafkaCredentials the SCRAM user of an authenticated broker listener ({@code bunshin.kafka.username},
 *                         {@code bunshin.kafka.password}: a worker that joins from another machine), or null
 */
public record WorkerSettings(String id, String modelId, Path model, String bootstrapServers, String host,
                             long memoryBytes, int threads, double speedGflops, Duration heartbeat,
                             int maxBatchTokens, int maxSequences, WirePrecision precision,
                             int maxRecordBytes, String backend, int microBatches, Duration deliveryTimeout,
                             KafkaCredentials kafkaCredentials) {

    /**
     * Prompt positions per engine call unless told: enough to batch prefill well on a CPU, small enough that a round
     * of prompts flows through the stages in many short calls, interleaved with decode steps, instead of a few long
     * ones that leave the next stage idle (256 gave 1.22–1.36× the single node in bench cluster, 64 gave 1.44–1.49×;
     * docs/benchmarks.md). A GPU worker batches larger prompts for free: raise it there (e.g. 512).
     */
    public static final int DEFAULT_MAX_BATCH_TOKENS = 64;

    public WorkerSettings {
        Objects.requireNonNull(id, "id == null");
        Objects.requireNonNull(modelId, "modelId == null");
        Objects.requireNonNull(model, "model == null");
        Objects.requireNonNull(bootstrapServers, "bootstrapServers == null");
        if (memoryBytes <= 0) throw new IllegalArgumentException("worker " + id + ": memory must be > 0, got " + memoryBytes);
        if (threads < 1) throw new IllegalArgumentException("worker " + id + ": threads must be >= 1, got " + threads);
        if (maxBatchTokens < 1) throw new IllegalArgumentException("worker " + id + ": max-batch-tokens must be >= 1");
        if (microBatches < 0) throw new IllegalArgumentException("worker " + id + ": micro-batches must be >= 0, got " + microBatches);
        Objects.requireNonNull(deliveryTimeout, "deliveryTimeout == null");
        if (!StageBackends.NAMES.contains(backend)) {
            throw new IllegalArgumentException("worker " + id + ": bunshin.worker.backend must be one of "
                    + StageBackends.NAMES + ", got \"" + backend + "\"");
        }
    }

    /** Without Kafka credentials (the broker's loopback listener, or a broker without authentication). */
    public WorkerSettings(String id, String modelId, Path model, String bootstrapServers, String host,
                          long memoryBytes, int threads, double speedGflops, Duration heartbeat,
                          int maxBatchTokens, int maxSequences, WirePrecision precision,
                          int maxRecordBytes, String backend, int microBatches, Duration deliveryTimeout) {
        this(id, modelId, model, bootstrapServers, host, memoryBytes, threads, speedGflops, heartbeat, maxBatchTokens,
                maxSequences, precision, maxRecordBytes, backend, microBatches, deliveryTimeout, null);
    }

    /** With the producer's default delivery timeout ({@link ActivationProducer#DEFAULT_DELIVERY_TIMEOUT}). */
    public WorkerSettings(String id, String modelId, Path model, String bootstrapServers, String host,
                          long memoryBytes, int threads, double speedGflops, Duration heartbeat,
                          int maxBatchTokens, int maxSequences, WirePrecision precision,
                          int maxRecordBytes, String backend, int microBatches) {
        this(id, modelId, model, bootstrapServers, host, memoryBytes, threads, speedGflops, heartbeat, maxBatchTokens,
                maxSequences, precision, maxRecordBytes, backend, microBatches, ActivationProducer.DEFAULT_DELIVERY_TIMEOUT);
    }

    /** Defaults for everything but identity, model and Kafka. */
    public static WorkerSettings of(String id, String modelId, Path model, String bootstrapServers) {
        return new WorkerSettings(id, modelId, model, bootstrapServers, "localhost", 8L << 30, 1, 0,
                Duration.ofSeconds(1), DEFAULT_MAX_BATCH_TOKENS, 64, WirePrecision.F32, 4 << 20, "java", 0);
    }
}
