package dev.bunshin.protocol;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.LongSerializer;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * The one producer configuration for activation records, shared by the scheduler (prefills) and every stage worker
 * (activations, DECODEs, FREEs): keyed by job id, valued by {@link ActivationSerializer}.
 */
public final class ActivationProducer {

    /**
     * How long the producer itself keeps retrying a record before its send fails with a TimeoutException (Kafka's
     * default is 2 minutes): longer than the broker outages we ride out (issue 10), so that the producer's own
     * retries, which keep each partition's order, do the work. Senders still resend on a TimeoutException.
     */
    public static final Duration DEFAULT_DELIVERY_TIMEOUT = Duration.ofMinutes(10);

    private ActivationProducer() {}

    /** A producer of activation records to {@code bootstrapServers}, for records up to {@code maxRecordBytes}. */
    public static KafkaProducer<Long, ActivationRecord> create(String bootstrapServers, int maxRecordBytes) {
        return create(bootstrapServers, maxRecordBytes, DEFAULT_DELIVERY_TIMEOUT);
    }

    /** As {@link #create(String, int)}, with the producer's delivery timeout (at least 2 s). */
    public static KafkaProducer<Long, ActivationRecord> create(String bootstrapServers, int maxRecordBytes,
                                                               Duration deliveryTimeout) {
        return create(bootstrapServers, maxRecordBytes, deliveryTimeout, null);
    }

    /** As above, logging in with {@code credentials} (null: none, the broker's loopback listener). */
    public static KafkaProducer<Long, ActivationRecord> create(String bootstrapServers, int maxRecordBytes,
                                                               Duration deliveryTimeout, KafkaCredentials credentials) {
        Map<String, Object> p = settings(bootstrapServers, maxRecordBytes, deliveryTimeout);
        p.putAll(KafkaCredentials.settingsOf(credentials));
        return new KafkaProducer<>(p, new LongSerializer(), new ActivationSerializer());
    }

    /** The settings, each with why it is set. */
    public static Map<String, Object> settings(String bootstrapServers, int maxRecordBytes) {
        return settings(bootstrapServers, maxRecordBytes, DEFAULT_DELIVERY_TIMEOUT);
    }

    /** The settings, each with why it is set. */
    public static Map<String, Object> settings(String bootstrapServers, int maxRecordBytes, Duration deliveryTimeout) {
        if (deliveryTimeout.toMillis() < 2_000) {
            throw new IllegalArgumentException("delivery timeout must be at least 2 s, got " + deliveryTimeout);
        }
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
        // Ride out a broker outage: the producer retries (in order, idempotently) this long before a send fails;
        // Kafka requires delivery.timeout >= linger + request.timeout, so a short one (tests) shortens the request's.
        int delivery = (int) Math.min(Integer.MAX_VALUE, deliveryTimeout.toMillis());
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, delivery);
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, Math.min(30_000, delivery / 2));
        return p;
    }
}
