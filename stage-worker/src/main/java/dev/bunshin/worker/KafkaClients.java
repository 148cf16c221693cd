package dev.bunshin.worker;

import dev.bunshin.db.StagePlan;
import dev.bunshin.protocol.ActivationProducer;
import dev.bunshin.protocol.ActivationRecord;
import dev.bunshin.protocol.KafkaCredentials;
import dev.bunshin.protocol.Topics;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The worker's Kafka clients: the shared activation producer, and a consumer of one stage's topic. */
final class KafkaClients {

    private KafkaClients() {}

    static KafkaProducer<Long, ActivationRecord> producer(WorkerSettings s) {
        return ActivationProducer.create(s.bootstrapServers(), s.maxRecordBytes(), s.deliveryTimeout(),
                s.kafkaCredentials());
    }

    /** A consumer assigned every partition of the stage's topic (waiting for the topic to exist). */
    static KafkaConsumer<byte[], byte[]> consumer(WorkerSettings settings, StagePlan.Stage s) throws InterruptedException {
        Map<String, Object> p = new HashMap<>();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, settings.bootstrapServers());
        p.putAll(KafkaCredentials.settingsOf(settings.kafkaCredentials()));
        // Offsets belong to the stage, not the worker: whoever runs the stage next continues from them.
        p.put(ConsumerConfig.GROUP_ID_CONFIG, Topics.stageGroup(settings.modelId(), s.index()));
        // We commit after the outputs are acknowledged (at-least-once), never on a timer.
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        // A new stage group starts at the beginning: records of older plans are dropped by epoch, cheaply.
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        // Answer a fetch as soon as one record is there: every decode step waits on this hop.
        p.put(ConsumerConfig.FETCH_MIN_BYTES_CONFIG, 1);
        // When idle, come back often enough to notice a new plan.
        p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 100);
        // The largest prefill chunk (sized by Chunking under max-record-bytes) must fit one partition fetch.
        p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, settings.maxRecordBytes() + 65536);
        p.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, Math.max(52428800, settings.maxRecordBytes() * 4));
        // Values are decoded by us so a bad record fails its job instead of blocking the partition.
        KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        // assign(), not subscribe(): one worker per stage, no group rebalances on the hot path.
        List<PartitionInfo> parts = List.of();
        for (int i = 0; i < 100 && (parts == null || parts.isEmpty()); i++) {
            parts = c.partitionsFor(s.topic(), Duration.ofSeconds(10));
            if (parts == null || parts.isEmpty()) Thread.sleep(100);
        }
        if (parts == null || parts.isEmpty()) {
            c.close();
            throw new IllegalStateException("topic " + s.topic() + " has no partitions");
        }
        List<TopicPartition> tps = new ArrayList<>();
        for (PartitionInfo pi : parts) tps.add(new TopicPartition(pi.topic(), pi.partition()));
        c.assign(tps);
        return c;
    }
}
