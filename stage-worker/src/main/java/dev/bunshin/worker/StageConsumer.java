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
import java.util.OptionalLong;
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
    /** Acknowledged since the last asynchronous commit. */
    private final Map<TopicPartition, OffsetAndMetadata> pending = new HashMap<>();
    static final long COMMIT_EVERY_NANOS = 200_000_000L;
    private long lastCommit = System.nanoTime() - COMMIT_EVERY_NANOS;

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
     *
     * <p>With {@code expected} > 1 (a wave's size: the running jobs ÷ waves in flight), fewer records than that
     * wait up to {@code waveWait} more for the rest of their wave. A wave is produced in one burst, but the
     * producer sends the burst's first record at once (linger 0) and the rest in the next request, so a fetch
     * often answers with a fragment; running fragments as separate engine calls cost ≈ 40 % of the batch size
     * (9–10 records per call for 16-job waves, measured).
     */
    List<ConsumerRecord<byte[], byte[]>> poll(Duration timeout, int expected, Duration waveWait) {
        ConsumerRecords<byte[], byte[]> first = consumer.poll(timeout);
        List<ConsumerRecord<byte[], byte[]>> all = new ArrayList<>(first.count());
        first.forEach(all::add);
        if (all.isEmpty()) return all;
        for (int i = 0; i < 4 && all.size() < maxRecords; i++) {
            ConsumerRecords<byte[], byte[]> more = consumer.poll(Duration.ZERO);
            if (more.isEmpty()) break;
            more.forEach(all::add);
        }
        long deadline = System.nanoTime() + waveWait.toNanos();
        long left;
        while (all.size() < Math.min(expected, maxRecords) && (left = deadline - System.nanoTime()) > 0) {
            ConsumerRecords<byte[], byte[]> more = consumer.poll(Duration.ofNanos(left));
            more.forEach(all::add);
        }
        return all;
    }

    List<ConsumerRecord<byte[], byte[]>> poll(Duration timeout) {
        return poll(timeout, 0, Duration.ZERO);
    }

    /**
     * Everything up to these offsets ran and its outputs are acknowledged. Committed asynchronously, at most once
     * per {@link #COMMIT_EVERY_NANOS}: a lost or late commit only means a harmless redelivery (stages drop
     * duplicates by position), the next poll need not wait for the coordinator's round trip, and the broker is
     * not asked for an offset commit per decode step of every stage (a third of its CPU with one job in flight).
     */
    void acknowledge(Map<TopicPartition, OffsetAndMetadata> done) {
        if (done.isEmpty()) return;
        processed.putAll(done);
        pending.putAll(done);
        long now = System.nanoTime();
        if (now - lastCommit < COMMIT_EVERY_NANOS) return;
        lastCommit = now;
        consumer.commitAsync(new HashMap<>(pending), (offsets, e) -> {
            if (e != null) LOG.warning("worker " + worker + ": offset commit failed (records will be re-run): " + e);
        });
        pending.clear();
    }

    /**
     * Records of the topic not yet consumed: the end offset minus this consumer's position, summed over its
     * partitions, as of the last fetch (no request to the broker); -1 before any partition's lag is known.
     */
    long lag() {
        long sum = 0;
        boolean known = false;
        for (TopicPartition tp : consumer.assignment()) {
            OptionalLong l = consumer.currentLag(tp);
            if (l.isEmpty()) continue;
            sum += l.getAsLong();
            known = true;
        }
        return known ? sum : -1;
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
