package dev.bunshin.worker;

import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Logger;

/**
 * The consumer of one stage's topic and its acknowledgements: records are polled and drained into one batch, and
 * their offsets committed only once everything they produced is acknowledged (at-least-once). Commits are
 * asynchronous on the hot path; the last ones are made sure of when the consumer closes.
 */
final class StageConsumer implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(StageConsumer.class.getName());

    private final Consumer<byte[], byte[]> consumer;
    private final String worker;
    private final int maxRecords;
    /** Offsets of everything run and acknowledged: committed synchronously when the consumer closes. */
    private final Map<TopicPartition, OffsetAndMetadata> processed = new HashMap<>();

    /** @param maxRecords stop draining once this many records are in hand (the batch token cap) */
    StageConsumer(Consumer<byte[], byte[]> consumer, String worker, int maxRecords) {
        this.consumer = consumer;
        this.worker = worker;
        this.maxRecords = maxRecords;
    }

    /**
     * Polls up to {@code timeout}; if anything came, also takes whatever further fetches have already brought in,
     * without waiting. A fetch answers as soon as ONE record is there (fetch.min.bytes=1), so under load every
     * poll would carry a single job: draining lets one engine call serve many jobs while an idle pipeline still
     * answers at once.
     */
    List<ConsumerRecord<byte[], byte[]>> poll(Duration timeout) {
        ConsumerRecords<byte[], byte[]> first = consumer.poll(timeout);
        List<ConsumerRecord<byte[], byte[]>> all = new ArrayList<>(first.count());
        first.forEach(all::add);
        if (all.isEmpty()) return all;
        for (int i = 0; i < 4 && all.size() < maxRecords; i++) {
            ConsumerRecords<byte[], byte[]> more = consumer.poll(Duration.ZERO);
            if (more.isEmpty()) break;
            more.forEach(all::add);
        }
        return all;
    }

    /**
     * Everything up to these offsets ran and its outputs are acknowledged. Asynchronous: a lost commit only means
     * a harmless redelivery (stages drop duplicates by position), and the next poll need not wait for the
     * coordinator's round trip.
     */
    void acknowledge(Map<TopicPartition, OffsetAndMetadata> done) {
        if (done.isEmpty()) return;
        processed.putAll(done);
        consumer.commitAsync(done, (offsets, e) -> {
            if (e != null) LOG.warning("worker " + worker + ": offset commit failed (records will be re-run): " + e);
        });
    }

    /** Reads again from these offsets: records fetched but not run (they belong to a newer plan). */
    void rewind(Map<TopicPartition, Long> offsets) {
        offsets.forEach(consumer::seek);
    }

    /** Makes sure the commits of what was run are stored, then closes the consumer. */
    @Override
    public void close() {
        try {
            if (!processed.isEmpty()) consumer.commitSync(processed, Duration.ofSeconds(10));
        } catch (Exception e) {
            LOG.warning("worker " + worker + ": final offset commit failed (records will be re-run): " + e);
        }
        processed.clear();
        try {
            consumer.close();
        } catch (Exception e) {
            LOG.fine("close: " + e);
        }
    }
}
