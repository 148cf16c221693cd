package dev.bunshin.protocol;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.LongSerializer;

import java.util.HashMap;
import java.util.Map;

/**
 * The one producer configuration for activation records, shared by the scheduler (prefills) and every stage worker
 * (activations, DECODEs, FREEs): keyed by job id, valued by {@link ActivationSerializer}.
 */
public final class ActivationProducer {

    private ActivationProducer() {}

    /** A producer of activation records to {@code bootstrapServers}, for records up to {@code maxRecordBytes}. */
    public static KafkaProducer<Long, ActivationRecord> create(String bootstrapServers, int maxRecordBytes) {
        return new KafkaProducer<>(settings(bootstrapServers, maxRecordBytes), new LongSerializer(),
                new ActivationSerializer());
    }

    /** The settings, each with why it is set. */
    public static Map<String, Object> settings(String bootstrapServers, int maxRecordBytes) {
        Map<String, Object> p = new HashMap<>();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        // Every decode step crosses every stage and every prefill waits in front of a CPU pipeline: Kafka 4's default
        // 5 ms linger would add 5 ms per hop per token. Senders batch themselves (one send burst per poll or tick).
        p.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        // A lost record stalls its job forever (nothing re-sends it), so durability beats the ~1 ms of acks=1.
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        // A producer batch larger than the topic's max.message.bytes is refused and split by the client, and
        // splitting an idempotent batch can end in OutOfOrderSequenceException: keep batches under the limit.
        p.put(ProducerConfig.BATCH_SIZE_CONFIG, Math.min(maxRecordBytes, 256 * 1024));
        // Retries must not duplicate or reorder a job's records (its chunks, its steps) within its partition.
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        // Activations and token ids are dense numbers: compression costs CPU on the hot path and saves little.
        p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "none");
        // The largest prefill chunk (sized by Chunking under max-record-bytes) must fit one request.
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, maxRecordBytes + 65536);
        return p;
    }
}
