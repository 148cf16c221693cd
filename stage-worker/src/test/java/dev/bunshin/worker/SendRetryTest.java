package dev.bunshin.worker;

import dev.bunshin.db.StagePlan;
import dev.bunshin.protocol.ActivationCodec;
import dev.bunshin.protocol.ActivationRecord;
import dev.bunshin.protocol.ActivationSerializer;
import dev.bunshin.protocol.WirePrecision;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.LongSerializer;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A middle stage's sends while the broker is away (issue 10): waited for, sent again, never fatal. */
class SendRetryTest {

    private static final int EPOCH = 1;
    private static final TopicPartition IN = new TopicPartition("t1", 0);
    private static final StagePlan PLAN = new StagePlan("m", EPOCH, 64, List.of(
            new StagePlan.Stage(0, "w0", 0, 1, "t0"), new StagePlan.Stage(1, "w1", 1, 2, "t1"),
            new StagePlan.Stage(2, "w2", 2, 3, "t2")));
    private static final WorkerSettings SETTINGS = WorkerSettings.of("w1", "m", Path.of("m.gguf"), "localhost:9");

    private final FakeBackend backend = new FakeBackend(64);
    private final Map<Long, String> failed = new LinkedHashMap<>();
    private final RecordProcessor.Assignment assignment =
            new RecordProcessor.Assignment(PLAN, PLAN.stages().get(1), backend, null);

    /** One record per (job, position): {@code n} activation rows of job {@code job} from {@code pos}. */
    private static ConsumerRecord<byte[], byte[]> record(long job, int pos, int n, long offset) {
        ActivationRecord r = ActivationRecord.prefill(job, EPOCH, pos, 0, 1, new int[n])
                .withActivations(new float[n * FakeBackend.N_EMBD], WirePrecision.F32);
        return new ConsumerRecord<>(IN.topic(), IN.partition(), offset, ByteBuffer.allocate(8).putLong(job).array(),
                ActivationCodec.encode(r));
    }

    @Test
    void aSendThatTimedOutIsSentAgainWithItsJobsLaterRecordsInOrderAndNothingFails() throws Exception {
        int[] failures = {1}; // the first send expires (the producer's delivery timeout); the broker is back after it
        MockProducer<Long, ActivationRecord> producer = new MockProducer<>(true, null, new LongSerializer(), new ActivationSerializer()) {
            @Override
            public synchronized Future<RecordMetadata> send(ProducerRecord<Long, ActivationRecord> r) {
                if (failures[0]-- > 0) {
                    return CompletableFuture.failedFuture(new TimeoutException("Expiring 1 record(s) for t2-0"));
                }
                return super.send(r);
            }
        };
        RecordProcessor p = new RecordProcessor(SETTINGS, new PositionLedger(), producer, failed::put,
                new WorkerStats(Duration.ofHours(1)), WorkerMetrics.none(SETTINGS), () -> true);
        // Job 1's two records run in two engine calls (one record per job per call); job 2's in the first.
        RecordProcessor.Result r = p.process(List.of(record(1, 0, 2, 0), record(2, 0, 2, 1), record(1, 2, 1, 2)),
                assignment);
        List<String> delivered = new ArrayList<>();
        for (ProducerRecord<Long, ActivationRecord> s : producer.history()) {
            delivered.add(s.topic() + ":" + s.key() + "@" + s.value().pos());
        }
        // 1@0 expired: it goes again, and so does 1@2 after it (delivered before it the first time).
        assertEquals(List.of("t2:2@0", "t2:1@2", "t2:1@0", "t2:1@2"), delivered);
        assertEquals(Map.of(IN, new OffsetAndMetadata(3)), r.done());
        assertTrue(failed.isEmpty(), "no job failed: " + failed);
    }

    @Test
    void anUnacknowledgedSendIsWaitedForUntilTheWorkerCloses() {
        MockProducer<Long, ActivationRecord> producer = new MockProducer<>(false, null, new LongSerializer(), new ActivationSerializer());
        boolean[] running = {true};
        RecordProcessor p = new RecordProcessor(SETTINGS, new PositionLedger(), producer, failed::put,
                new WorkerStats(Duration.ofHours(1)), WorkerMetrics.none(SETTINGS), () -> running[0]);
        Thread closer = Thread.ofPlatform().start(() -> {
            try {
                Thread.sleep(1_500); // still waiting: no acknowledgement, and no error either
            } catch (InterruptedException ignored) {
                return;
            }
            running[0] = false;
        });
        long t0 = System.nanoTime();
        assertThrows(InterruptedException.class, () -> p.process(List.of(record(1, 0, 2, 0)), assignment));
        assertTrue(System.nanoTime() - t0 >= 1_400_000_000L, "it waited while the worker ran");
        assertTrue(failed.isEmpty());
        closer.interrupt();
    }

    @Test
    void overlappingAcksReportAPollsOffsetsOnceItsOutputsAreAcknowledgedAndResendInOrder() throws Exception {
        // No auto-complete: acknowledgements come when the test says; the first send then fails transiently.
        MockProducer<Long, ActivationRecord> producer = new MockProducer<>(false, null, new LongSerializer(), new ActivationSerializer());
        RecordProcessor p = new RecordProcessor(SETTINGS, new PositionLedger(), producer, failed::put,
                new WorkerStats(Duration.ofHours(1)), WorkerMetrics.none(SETTINGS), () -> true, true);
        // Poll 1: its output is sent, not waited for; nothing is reported yet.
        RecordProcessor.Result first = p.process(List.of(record(1, 0, 2, 0)), assignment);
        assertEquals(Map.of(), first.done());
        assertTrue(p.hasPending());
        assertEquals(1, producer.history().size());
        // Poll 2 cannot send until poll 1's acknowledgement is in: it fails (delivery timeout) while poll 2's engine
        // call runs, and must go again before poll 2's output.
        Thread broker = Thread.ofPlatform().start(() -> {
            try {
                Thread.sleep(300);
                producer.errorNext(new TimeoutException("Expiring 1 record(s) for t2-0"));
                // The resend of poll 1's record and poll 2's record: acknowledged as they come.
                while (true) {
                    producer.completeNext();
                    Thread.sleep(10);
                }
            } catch (InterruptedException e) {
                // done
            }
        });
        RecordProcessor.Result second = p.process(List.of(record(1, 2, 1, 1)), assignment);
        // Reported: poll 1's offset (its output acknowledged at last); poll 2's waits for the next poll.
        assertEquals(Map.of(IN, new OffsetAndMetadata(1)), second.done());
        List<String> delivered = new ArrayList<>();
        for (ProducerRecord<Long, ActivationRecord> s : producer.history()) delivered.add(s.key() + "@" + s.value().pos());
        assertEquals(List.of("1@0", "1@0", "1@2"), delivered, "the resend went before the later record");
        // Nothing comes next: the pending poll settles on its own.
        assertEquals(Map.of(IN, new OffsetAndMetadata(2)), p.settle());
        assertTrue(!p.hasPending());
        broker.interrupt();
        assertTrue(failed.isEmpty(), "no job failed: " + failed);
    }
}
