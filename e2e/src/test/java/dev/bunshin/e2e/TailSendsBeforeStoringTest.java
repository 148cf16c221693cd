package dev.bunshin.e2e;

import dev.bunshin.db.StagePlan;
import dev.bunshin.engine.TestModels;
import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.engine.tokenizer.Tokenizer;
import dev.bunshin.protocol.ActivationCodec;
import dev.bunshin.protocol.ActivationRecord;
import dev.bunshin.worker.StageWorker;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The tail sends a step's DECODE before its transaction stores the token (TailStage): stage 0 works on the next
 * step while the tail writes this one. Checked with the tail's transaction held up: another connection locks the
 * job's row, so the tail blocks storing token k; stage 0 must still run step k (its output for token k's position
 * reaches the tail's topic) while token k is not stored. Let go, the job completes with the reference greedy tokens.
 */
class TailSendsBeforeStoringTest {

    @Test
    void stageZeroRunsTheNextStepWhileTheTailStoresThisOne() throws Exception {
        Path model = TestModels.stories260K();
        Infra infra = Infra.get();
        Jobs jobs = new Jobs(infra.db);
        String modelId = "stories260K-early-" + System.nanoTime() % 100000;
        int maxTokens = 200;
        try (GgufFile file = GgufFile.open(model);
             Pipeline p = new Pipeline(infra, modelId, model, 2, 1 << 20)) {
            Tokenizer tokenizer = Tokenizer.fromGguf(file);
            StagePlan plan = p.awaitPlan(2, Duration.ofSeconds(60));
            int[] prompt = tokenizer.encode("Once upon a time", true, false);
            Reference.Output reference = Reference.greedy(file, tokenizer, prompt, maxTokens);
            long id = jobs.insert(modelId, "Once upon a time", prompt, maxTokens);
            jobs.awaitTokens(id, 3, Duration.ofSeconds(60));
            int stored;
            try (Connection lock = infra.db.getConnection()) {
                lock.setAutoCommit(false);
                try (PreparedStatement ps = lock.prepareStatement("SELECT id FROM jobs WHERE id = ? FOR UPDATE")) {
                    ps.setLong(1, id);
                    ps.executeQuery().close();
                }
                // The tail's transaction for the next token now waits for this lock.
                stored = jobs.row(id).tokenCount();
                assertTrue(stored < maxTokens - 1, "the job is still generating: " + stored + " tokens");
                int position = prompt.length + stored; // where the DECODE of token `stored` enters stage 0
                ActivationRecord seen = awaitRecord(infra, plan.stages().get(1).topic(), id, position, Duration.ofSeconds(20));
                assertTrue(seen != null, "stage 0 ran position " + position + " of job " + id
                        + " (the DECODE of token " + stored + ") while the tail was storing that token");
                Thread.sleep(300);
                assertEquals(stored, jobs.row(id).tokenCount(), "token " + stored + " is not stored while its row is locked");
                lock.rollback();
            }
            Jobs.Row done = jobs.awaitDone(List.of(id), Duration.ofSeconds(60)).getFirst();
            assertEquals("completed", done.status(), done.toString());
            List<Integer> tokens = new ArrayList<>();
            for (Jobs.Token t : jobs.tokens(id)) tokens.add(t.tokenId());
            assertEquals(reference.tokens(), tokens, "the same tokens as the reference, none lost or doubled");
            for (StageWorker w : p.workers) assertNull(w.failure(), "worker " + w.id() + " stopped");
        }
    }

    /** The first record of {@code job} at {@code pos} in {@code topic} (read from the start), or null by the deadline. */
    private static ActivationRecord awaitRecord(Infra infra, String topic, long job, int pos, Duration timeout) {
        Map<String, Object> props = Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, infra.kafka.bootstrapServers(),
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> tps = new ArrayList<>();
            for (PartitionInfo pi : c.partitionsFor(topic)) tps.add(new TopicPartition(topic, pi.partition()));
            c.assign(tps);
            c.seekToBeginning(tps);
            long end = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < end) {
                for (ConsumerRecord<byte[], byte[]> cr : c.poll(Duration.ofMillis(200))) {
                    ActivationRecord r = ActivationCodec.decode(cr.value());
                    if (r.jobId() == job && r.pos() == pos) return r;
                }
            }
            return null;
        }
    }
}
