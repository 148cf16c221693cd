package dev.bunshin.worker;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StageConsumerTest {

    private static final TopicPartition TP = new TopicPartition("t1", 0);

    @Test
    void acknowledgedOffsetsAreCommittedAndARewindReadsAgain() {
        Map<TopicPartition, OffsetAndMetadata> atClose = new java.util.HashMap<>();
        MockConsumer<byte[], byte[]> mock = new MockConsumer<>("earliest") {
            @Override
            public synchronized void close() {
                atClose.putAll(committed(Set.of(TP)));
                super.close();
            }
        };
        mock.assign(List.of(TP));
        mock.updateBeginningOffsets(Map.of(TP, 0L));
        for (int i = 0; i < 5; i++) mock.addRecord(new ConsumerRecord<>("t1", 0, i, null, new byte[] {(byte) i}));
        StageConsumer c = new StageConsumer(mock, "w1", 2048);
        List<ConsumerRecord<byte[], byte[]>> got = c.poll(Duration.ofMillis(10));
        assertEquals(5, got.size());
        c.acknowledge(Map.of(TP, new OffsetAndMetadata(3)));
        assertEquals(new OffsetAndMetadata(3), mock.committed(Set.of(TP)).get(TP));
        c.rewind(Map.of(TP, 3L));
        assertEquals(3, mock.position(TP));
        assertTrue(c.poll(Duration.ofMillis(10)).isEmpty());
        // Commits are throttled: one right after another waits (a redelivery is harmless), close() makes sure.
        c.acknowledge(Map.of(TP, new OffsetAndMetadata(5)));
        assertEquals(new OffsetAndMetadata(3), mock.committed(Set.of(TP)).get(TP));
        c.close();
        assertTrue(mock.closed());
        assertEquals(new OffsetAndMetadata(5), atClose.get(TP));
    }

    @Test
    void aFragmentOfAWaveWaitsBrieflyForTheRestAndAWholeOneDoesNot() {
        MockConsumer<byte[], byte[]> mock = new MockConsumer<>("earliest");
        mock.assign(List.of(TP));
        mock.updateBeginningOffsets(Map.of(TP, 0L));
        StageConsumer c = new StageConsumer(mock, "w1", 2048);
        // The first fetch brings 1 record of a wave of 4; the rest come two polls later (the drain's poll(0)s
        // find nothing meanwhile).
        mock.addRecord(new ConsumerRecord<>("t1", 0, 0, null, new byte[] {0}));
        for (int i = 0; i < 6; i++) mock.schedulePollTask(() -> { });
        mock.schedulePollTask(() -> {
            for (int i = 1; i < 4; i++) mock.addRecord(new ConsumerRecord<>("t1", 0, i, null, new byte[] {(byte) i}));
        });
        assertEquals(4, c.poll(Duration.ofMillis(10), 4, Duration.ofSeconds(5)).size());
        // A whole wave returns without waiting for more.
        for (int i = 4; i < 8; i++) mock.addRecord(new ConsumerRecord<>("t1", 0, i, null, new byte[] {(byte) i}));
        long t0 = System.nanoTime();
        assertEquals(4, c.poll(Duration.ofMillis(10), 4, Duration.ofSeconds(5)).size());
        assertTrue(System.nanoTime() - t0 < 1_000_000_000L, "waited for a wave that was whole");
        // A wave that never completes gives up after the wait.
        mock.addRecord(new ConsumerRecord<>("t1", 0, 8, null, new byte[] {8}));
        assertEquals(1, c.poll(Duration.ofMillis(10), 4, Duration.ofMillis(20)).size());
        c.close();
    }
}
