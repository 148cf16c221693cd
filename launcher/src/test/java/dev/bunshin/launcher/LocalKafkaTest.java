package dev.bunshin.launcher;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LocalKafkaTest {

    @Test
    void brokerServesATopicWithLargeRecordsAndIsGoneAfterClose() throws Exception {
        Path dir = TestDirs.fresh("kafka");
        long pid;
        try (LocalKafka kafka = LocalKafka.start(dir)) {
            pid = kafka.pid();
            Map<String, Object> common = Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
            try (Admin admin = Admin.create(common)) {
                assertEquals(1, admin.describeCluster().nodes().get(30, TimeUnit.SECONDS).size());
                admin.createTopics(List.of(new NewTopic("activations", 2, (short) 1))).all().get(30, TimeUnit.SECONDS);
                assertTrue(admin.listTopics().names().get(30, TimeUnit.SECONDS).contains("activations"));
            }

            // 4 MiB: four times the broker's default limit, as a prefill chunk's activations may be.
            byte[] big = new byte[4 * 1024 * 1024];
            Arrays.fill(big, (byte) 7);
            Map<String, Object> producerConfig = new java.util.HashMap<>(common);
            producerConfig.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, LocalKafka.MAX_MESSAGE_BYTES);
            try (var producer = new KafkaProducer<>(producerConfig, new ByteArraySerializer(), new ByteArraySerializer())) {
                producer.send(new ProducerRecord<>("activations", 0, "k".getBytes(StandardCharsets.UTF_8),
                        "hello".getBytes(StandardCharsets.UTF_8))).get(30, TimeUnit.SECONDS);
                producer.send(new ProducerRecord<>("activations", 0, "big".getBytes(StandardCharsets.UTF_8), big))
                        .get(30, TimeUnit.SECONDS);
            }

            Map<String, Object> consumerConfig = new java.util.HashMap<>(common);
            consumerConfig.put(ConsumerConfig.GROUP_ID_CONFIG, "test");
            consumerConfig.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
            consumerConfig.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, LocalKafka.MAX_MESSAGE_BYTES);
            List<ConsumerRecord<byte[], byte[]>> received = new ArrayList<>();
            try (var consumer = new KafkaConsumer<>(consumerConfig, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
                consumer.subscribe(Set.of("activations"));
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (received.size() < 2 && System.nanoTime() < deadline) {
                    consumer.poll(Duration.ofMillis(500)).forEach(received::add);
                }
            }
            assertEquals(2, received.size(), "records consumed");
            assertEquals("hello", new String(received.get(0).value(), StandardCharsets.UTF_8));
            assertArrayEquals(big, received.get(1).value());
        }
        TestDirs.assertGone(pid);
    }

    @Test
    void aRoutesClientsStayOnItsDelayedLink() throws Exception {
        Path dir = TestDirs.fresh("kafka-route");
        int brokerPort = Ports.free();
        try (DelayLink link = DelayLink.open("127.0.0.1", brokerPort, 10);
             LocalKafka kafka = LocalKafka.start(dir, Binding.LOCAL, 0, 0, dir.resolve("kafka.log"), null,
                     List.of(new LocalKafka.Route("NODE1", brokerPort, link.port())))) {
            Map<String, Object> viaLink = Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, link.hostPort());
            try (Admin admin = Admin.create(viaLink)) {
                // Metadata sends this client back to the link, not to the broker's own port.
                var nodes = admin.describeCluster().nodes().get(30, TimeUnit.SECONDS);
                assertEquals(1, nodes.size());
                assertEquals(link.port(), nodes.iterator().next().port(), nodes.toString());
                admin.createTopics(List.of(new NewTopic("t", 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
            }
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()))) {
                assertEquals(kafka.port(), admin.describeCluster().nodes().get(30, TimeUnit.SECONDS).iterator().next().port(),
                        "other clients keep the plain listener");
            }
            Map<String, Object> producerConfig = new java.util.HashMap<>(viaLink);
            producerConfig.put(ProducerConfig.LINGER_MS_CONFIG, 0);
            try (var producer = new KafkaProducer<>(producerConfig, new ByteArraySerializer(), new ByteArraySerializer())) {
                producer.send(new ProducerRecord<>("t", new byte[1])).get(30, TimeUnit.SECONDS); // connections made
                long best = Long.MAX_VALUE;
                for (int i = 0; i < 5; i++) {
                    long t0 = System.nanoTime();
                    producer.send(new ProducerRecord<>("t", new byte[1])).get(30, TimeUnit.SECONDS);
                    best = Math.min(best, System.nanoTime() - t0);
                }
                assertTrue(best >= 20_000_000L, "an acknowledged send through a 10 ms link took " + best / 1e6 + " ms");
            }
        }
    }
}
