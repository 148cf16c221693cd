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
        MockConsumer<byte[], byte[]> mock = new MockConsumer<>("earliest");
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
        c.close();
        assertTrue(mock.closed());
    }
}
