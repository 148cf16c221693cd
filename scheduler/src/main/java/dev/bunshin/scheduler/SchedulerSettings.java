package dev.bunshin.scheduler;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * What the scheduler is told (configuration keys in parentheses; see application.properties).
 *
 * @param modelId           model id, also the {@code jobs.model} it serves ({@code bunshin.model-id})
 * @param model             the GGUF file, read for layer sizes and shapes ({@code bunshin.model})
 * @param bootstrapServers  Kafka ({@code kafka.bootstrap.servers})
 * @param expectedWorkers   plan once this many workers are live ({@code bunshin.scheduler.expected-workers})
 * @param grace             ...or this long after the first worker registered, with those that are
 *                          ({@code bunshin.scheduler.grace})
 * @param heartbeatTimeout  a worker silent this long is lost and the model is re-planned
 *                          ({@code bunshin.scheduler.heartbeat-timeout})
 * @param maxRunning        jobs running at once ({@code bunshin.scheduler.max-running})
 * @param partitions        partitions per stage topic ({@code bunshin.scheduler.partitions})
 * @param replicationFactor per stage topic, -1 = broker default ({@code bunshin.scheduler.replication-factor})
 * @param maxRecordBytes    largest record value; topics get this max.message.bytes ({@code bunshin.max-record-bytes})
 * @param contextLength     positions per job ({@code bunshin.context-length}); 0 = the model's trained context, at
 *                          most {@link #DEFAULT_MAX_CONTEXT}
 * @param maxReprefillTokens after a re-plan, a running job with more tokens than this fails instead of being
 *                          re-prefilled ({@code bunshin.scheduler.max-reprefill-tokens})
 * @param tick              how often the scheduler looks at workers and jobs ({@code bunshin.scheduler.tick})
 * @param interactiveReserve of the maxRunning places, how many batch jobs never take: an interactive job finds one
 *                          free at once, however big the batch ({@code bunshin.scheduler.interactive-reserve};
 *                          default {@link #defaultReserve})
 */
public record SchedulerSettings(String modelId, Path model, String bootstrapServers, int expectedWorkers,
                                Duration grace, Duration heartbeatTimeout, int maxRunning, int partitions,
                                short replicationFactor, int maxRecordBytes, int contextLength,
                                int maxReprefillTokens, Duration tick, int interactiveReserve) {

    /**
     * Positions per job when {@code bunshin.context-length} is not set and the model was trained for more: as Ollama
     * does (num_ctx). Workers on the llama.cpp backend allocate their KV pools up front by it, and 64 jobs at
     * qwen2.5's 32k or qwen3-coder's 256k would be hundreds of GB; set the property for longer jobs.
     */
    public static final int DEFAULT_MAX_CONTEXT = 8192;

    public SchedulerSettings {
        Objects.requireNonNull(modelId, "modelId == null");
        Objects.requireNonNull(model, "model == null");
        Objects.requireNonNull(bootstrapServers, "bootstrapServers == null");
        if (expectedWorkers < 1) throw new IllegalArgumentException("expected-workers must be >= 1, got " + expectedWorkers);
        if (maxRunning < 1) throw new IllegalArgumentException("max-running must be >= 1, got " + maxRunning);
        if (partitions < 1) throw new IllegalArgumentException("partitions must be >= 1, got " + partitions);
        if (interactiveReserve < 0 || interactiveReserve >= maxRunning) {
            throw new IllegalArgumentException("interactive-reserve must be >= 0 and < max-running (" + maxRunning
                    + "), got " + interactiveReserve);
        }
    }

    /** With the default reserve ({@link #defaultReserve}). */
    public SchedulerSettings(String modelId, Path model, String bootstrapServers, int expectedWorkers, Duration grace,
                             Duration heartbeatTimeout, int maxRunning, int partitions, short replicationFactor,
                             int maxRecordBytes, int contextLength, int maxReprefillTokens, Duration tick) {
        this(modelId, model, bootstrapServers, expectedWorkers, grace, heartbeatTimeout, maxRunning, partitions,
                replicationFactor, maxRecordBytes, contextLength, maxReprefillTokens, tick, defaultReserve(maxRunning));
    }

    /** An eighth of the places: 4 of the default 32, none when fewer than 8. */
    public static int defaultReserve(int maxRunning) {
        return maxRunning / 8;
    }

    /** How many jobs of a batch may run at once: the places less the interactive reserve. */
    public int maxBatchRunning() {
        return maxRunning - interactiveReserve;
    }

    /** Defaults for everything but the model, Kafka and the worker count. */
    public static SchedulerSettings of(String modelId, Path model, String bootstrapServers, int expectedWorkers) {
        return new SchedulerSettings(modelId, model, bootstrapServers, expectedWorkers, Duration.ofSeconds(30),
                Duration.ofSeconds(10), 32, 8, (short) -1, 4 << 20, 0, 8192, Duration.ofMillis(200));
    }
}
