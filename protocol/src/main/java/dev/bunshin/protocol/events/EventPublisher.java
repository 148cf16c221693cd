package dev.bunshin.protocol.events;

import dev.bunshin.protocol.KafkaCredentials;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Logger;

/**
 * Publishes committed job and batch changes to {@link #TOPIC}, keyed by job (or batch) id, without waiting: an event
 * is a fast copy of what PostgreSQL already holds, so a lost one costs a follower a database read, never a token.
 * The tail stage worker publishes after each committed transaction; the scheduler and the submitter after the
 * status changes they make.
 */
public final class EventPublisher implements AutoCloseable {

    /** One topic for the cluster: job ids are the database's, unique across models. */
    public static final String TOPIC = "bunshin.events";

    private static final Logger LOG = Logger.getLogger(EventPublisher.class.getName());
    private static final long LOG_EVERY_NANOS = 10_000_000_000L;

    private final KafkaProducer<String, byte[]> producer;
    /** The key of this publisher's multi-event records. */
    private final String key = "publisher-" + ProcessHandle.current().pid() + "-" + System.identityHashCode(this);
    private final AtomicLong failures = new AtomicLong();
    private final AtomicLong sent = new AtomicLong();
    private volatile long lastLog;

    public EventPublisher(String bootstrapServers) {
        this(bootstrapServers, null);
    }

    /** Logging in with {@code credentials} (null: none, the broker's loopback listener). */
    public EventPublisher(String bootstrapServers, KafkaCredentials credentials) {
        Map<String, Object> p = settings(bootstrapServers);
        p.putAll(KafkaCredentials.settingsOf(credentials));
        this.producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
    }

    /** The producer settings, each with why it is set. */
    public static Map<String, Object> settings(String bootstrapServers) {
        Map<String, Object> p = new HashMap<>();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        // A stream waits on this: Kafka 4's default linger of 5 ms would be 5 ms per token on every stream. One
        // commit's events go out in one burst and batch on their own while a request is in flight.
        p.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        // The tail must not stall on a broker that is gone: a send that cannot get metadata fails fast, and an
        // event older than half a minute is worth less than the database read that replaces it.
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 200);
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 30_000);
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "bunshin-events-" + ProcessHandle.current().pid());
        return p;
    }

    /** One event, keyed by its job (or batch). */
    public void publish(Event event) {
        send(event.key(), EventCodec.encode(event));
    }

    /**
     * The events of one commit as one record, keyed by this publisher: a job's events come from one publisher at a
     * time (its plan's tail), so they stay in order within that key's partition.
     */
    public void publishAll(List<? extends Event> events) {
        if (events.isEmpty()) return;
        if (events.size() == 1) publish(events.getFirst());
        else send(key, EventCodec.encode(events));
    }

    private void send(String key, byte[] value) {
        try {
            producer.send(new ProducerRecord<>(TOPIC, key, value), (meta, error) -> {
                if (error != null) failed(error);
                else sent.incrementAndGet();
            });
        } catch (RuntimeException e) { // metadata not available within max.block.ms, producer closed
            failed(e);
        }
    }

    /** Records acknowledged by the broker. */
    public long sent() {
        return sent.get();
    }

    /** Records that could not be published (their followers fall back to reading the database). */
    public long failures() {
        return failures.get();
    }

    private void failed(Exception error) {
        long n = failures.incrementAndGet();
        long now = System.nanoTime();
        if (now - lastLog > LOG_EVERY_NANOS) {
            lastLog = now;
            LOG.warning("could not publish an event to " + TOPIC + " (" + n + " so far; followers read the database): "
                    + error);
        }
    }

    @Override
    public void close() {
        producer.close(java.time.Duration.ofSeconds(2));
    }
}
