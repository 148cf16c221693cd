package dev.bunshin.worker;

import dev.bunshin.db.StagePlan;
import dev.bunshin.protocol.ActivationCodec;
import dev.bunshin.protocol.ActivationRecord;
import dev.bunshin.protocol.ActivationSerializer;
import dev.bunshin.protocol.RecordType;
import dev.bunshin.protocol.WirePrecision;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RecordTooLargeException;
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

/** The hot path of a middle stage (stage 1 of 3) against a fake backend and Kafka's MockProducer. */
class RecordProcessorTest {

    private static final int EPOCH = 2;
    private static final TopicPartition IN = new TopicPartition("t1", 0);
    private static final StagePlan PLAN = new StagePlan("m", EPOCH, 64, List.of(
            new StagePlan.Stage(0, "w0", 0, 1, "t0"), new StagePlan.Stage(1, "w1", 1, 2, "t1"),
            new StagePlan.Stage(2, "w2", 2, 3, "t2")));

    private final FakeBackend backend = new FakeBackend(64);
    private final PositionLedger ledger = new PositionLedger();
    private final Map<Long, String> failed = new LinkedHashMap<>();
    private final RecordProcessor.Assignment assignment =
            new RecordProcessor.Assignment(PLAN, PLAN.stages().get(1), backend, null);
    private final List<ConsumerRecord<byte[], byte[]>> polled = new ArrayList<>();

    private RecordProcessor processor(MockProducer<Long, ActivationRecord> producer) {
        return processor(producer, WorkerSettings.of("w1", "m", Path.of("m.gguf"), "localhost:9"));
    }

    private RecordProcessor processor(MockProducer<Long, ActivationRecord> producer, WorkerSettings s) {
        return new RecordProcessor(s, ledger, producer, failed::put, new WorkerStats(Duration.ofHours(1)));
    }

    /** The default settings with another token cap per engine call. */
    private static WorkerSettings maxBatchTokens(int n) {
        WorkerSettings d = WorkerSettings.of("w1", "m", Path.of("m.gguf"), "localhost:9");
        return new WorkerSettings(d.id(), d.modelId(), d.model(), d.bootstrapServers(), d.host(), d.memoryBytes(),
                d.threads(), d.speedGflops(), d.heartbeat(), n, d.maxSequences(), d.precision(), d.maxRecordBytes(),
                d.backend(), d.microBatches());
    }

    /** The default settings with another number of KV caches. */
    private static WorkerSettings maxSequences(int n) {
        WorkerSettings d = WorkerSettings.of("w1", "m", Path.of("m.gguf"), "localhost:9");
        return new WorkerSettings(d.id(), d.modelId(), d.model(), d.bootstrapServers(), d.host(), d.memoryBytes(),
                d.threads(), d.speedGflops(), d.heartbeat(), d.maxBatchTokens(), n, d.precision(), d.maxRecordBytes(),
                d.backend(), d.microBatches());
    }

    private static MockProducer<Long, ActivationRecord> producer() {
        return new MockProducer<>(true, null, new LongSerializer(), new ActivationSerializer());
    }

    /** A record as stage 0 sends it: {@code n} activation rows of job {@code job} from position {@code pos}. */
    private void add(long job, int epoch, int pos, int n) {
        ActivationRecord r = ActivationRecord.prefill(job, epoch, pos, 0, 1, new int[n])
                .withActivations(new float[n * FakeBackend.N_EMBD], WirePrecision.F32);
        addRaw(job, ActivationCodec.encode(r));
    }

    /** A decode step as stage 0 sends it: one activation row of job {@code job} at {@code pos}. */
    private void addDecode(long job, int pos) {
        addRaw(job, ActivationCodec.encode(ActivationRecord.decode(job, EPOCH, pos, 5)
                .withActivations(new float[FakeBackend.N_EMBD], WirePrecision.F32)));
    }

    private void addRaw(Long job, byte[] value) {
        byte[] key = job == null ? null : ByteBuffer.allocate(8).putLong(job).array();
        polled.add(new ConsumerRecord<>(IN.topic(), IN.partition(), polled.size(), key, value));
    }

    private static List<String> sent(MockProducer<Long, ActivationRecord> p) {
        List<String> out = new ArrayList<>();
        for (ProducerRecord<Long, ActivationRecord> r : p.history()) {
            out.add(r.topic() + ":" + r.value().type() + " " + r.key() + "@" + r.value().pos());
        }
        return out;
    }

    @Test
    void aRedeliveredRecordIsDroppedByPosition() throws Exception {
        MockProducer<Long, ActivationRecord> producer = producer();
        RecordProcessor p = processor(producer);
        add(1, EPOCH, 0, 3);
        add(1, EPOCH, 0, 3); // the same record again in the same poll
        add(2, EPOCH, 0, 2);
        RecordProcessor.Result first = p.process(polled, assignment);
        assertEquals(Map.of(IN, new OffsetAndMetadata(3)), first.done());
        polled.clear();
        add(1, EPOCH, 0, 3); // redelivered after a rewind
        add(1, EPOCH, 3, 1); // the next decode step
        p.process(polled, assignment);
        assertEquals(List.of(List.of("1@0+3", "2@0+2"), List.of("1@3+1")), backend.calls);
        assertEquals(List.of("t2:PREFILL 1@0", "t2:PREFILL 2@0", "t2:PREFILL 1@3"), sent(producer));
        assertEquals(4, ledger.expected(1));
        assertTrue(failed.isEmpty());
    }

    @Test
    void aRecordOfANewerPlanStopsThePollAndRewindsToIt() throws Exception {
        MockProducer<Long, ActivationRecord> producer = producer();
        add(1, EPOCH, 0, 2);
        add(2, EPOCH - 1, 0, 2); // an older plan's: dropped, its offset committed
        add(3, EPOCH + 1, 0, 2); // a newer plan's: read again once the new plan is loaded
        add(4, EPOCH, 0, 2);
        RecordProcessor.Result r = processor(producer).process(polled, assignment);
        assertEquals(List.of(List.of("1@0+2")), backend.calls);
        assertEquals(List.of("t2:PREFILL 1@0"), sent(producer));
        assertEquals(Map.of(IN, new OffsetAndMetadata(2)), r.done());
        assertEquals(Map.of(IN, 2L), r.rewind());
    }

    @Test
    void anUndecodableRecordFailsOnlyItsJob() throws Exception {
        MockProducer<Long, ActivationRecord> producer = producer();
        add(8, EPOCH, 0, 2);
        addRaw(7L, new byte[] {1, 2, 3});
        addRaw(null, new byte[] {4, 5}); // no job to blame: logged and skipped
        add(9, EPOCH, 0, 1);
        RecordProcessor.Result r = processor(producer).process(polled, assignment);
        assertEquals(List.of(7L), List.copyOf(failed.keySet()));
        assertTrue(failed.get(7L).startsWith("bad record at t1-0@1: "), failed.get(7L));
        assertEquals(List.of("t0:FREE 7@0", "t2:PREFILL 8@0", "t2:PREFILL 9@0"), sent(producer));
        assertEquals(Map.of(IN, new OffsetAndMetadata(4)), r.done());
    }

    @Test
    void aRecordTooLargeForTheNextTopicFailsOnlyItsJob() throws Exception {
        MockProducer<Long, ActivationRecord> producer = new MockProducer<>(true, null, new LongSerializer(), new ActivationSerializer()) {
            @Override
            public synchronized Future<RecordMetadata> send(ProducerRecord<Long, ActivationRecord> r) {
                if (r.value().type() != RecordType.FREE && r.value().nTokens() > 8) {
                    return CompletableFuture.failedFuture(new RecordTooLargeException("record of "
                            + r.value().nTokens() + " rows is larger than max.request.size"));
                }
                return super.send(r);
            }
        };
        add(10, EPOCH, 0, 2);
        add(11, EPOCH, 0, 9);
        processor(producer).process(polled, assignment);
        assertEquals(List.of(11L), List.copyOf(failed.keySet()));
        assertTrue(failed.get(11L).contains("too large for topic t2"), failed.get(11L));
        assertEquals(List.of("t2:PREFILL 10@0", "t0:FREE 11@0"), sent(producer));
        assertEquals(List.of(11L), List.copyOf(backend.freed));
        assertEquals(0, ledger.expected(11));
    }

    @Test
    void aRecordTheEngineRefusesFailsOnlyItsJobAndTheOthersStillRun() throws Exception {
        MockProducer<Long, ActivationRecord> producer = producer();
        add(20, EPOCH, 0, 2);
        add(21, EPOCH, 0, 65); // beyond the context of 64
        add(22, EPOCH, 0, 2);
        backend.refuse.add(22L);
        add(23, EPOCH, 0, 2);
        processor(producer, maxBatchTokens(256)).process(polled, assignment); // all four in one call
        assertEquals(List.of(21L, 22L), List.copyOf(failed.keySet()));
        assertTrue(failed.get(21L).startsWith("stage 1 (w1): sequence 21: position 0 + 65 exceeds"), failed.get(21L));
        // The FREEs are queued as the bisection finds the refused records, the outputs after the engine call.
        assertEquals(List.of("t0:FREE 21@0", "t0:FREE 22@0", "t2:PREFILL 20@0", "t2:PREFILL 23@0"), sent(producer));
        assertEquals(0, ledger.expected(22));
        assertEquals(2, ledger.expected(23));
    }

    @Test
    void aSendFailureThatIsNoJobsFaultStopsTheWorker() {
        MockProducer<Long, ActivationRecord> producer = new MockProducer<>(true, null, new LongSerializer(), new ActivationSerializer()) {
            @Override
            public synchronized Future<RecordMetadata> send(ProducerRecord<Long, ActivationRecord> r) {
                return CompletableFuture.failedFuture(new KafkaException("broker gone"));
            }
        };
        add(30, EPOCH, 0, 2);
        Exception e = assertThrows(Exception.class, () -> processor(producer).process(polled, assignment));
        assertTrue(String.valueOf(e.getCause()).contains("broker gone"), String.valueOf(e));
        assertTrue(failed.isEmpty());
    }

    @Test
    void aNewJobWaitsForAFreeCacheInsteadOfFailing() throws Exception {
        MockProducer<Long, ActivationRecord> producer = producer();
        RecordProcessor p = processor(producer, maxSequences(2));
        add(1, EPOCH, 0, 2);
        add(2, EPOCH, 0, 2);
        p.process(polled, assignment);
        polled.clear();
        backend.calls.clear();
        // Every cache taken: job 3 cannot start; job 1 goes on. Job 3 is read again, from its own offset.
        add(3, EPOCH, 0, 2);  // offset 0 of this poll
        addDecode(1, 2);      // offset 1
        RecordProcessor.Result r = p.process(polled, assignment);
        assertEquals(List.of(List.of("1@2+1")), backend.calls);
        assertEquals(Map.of(IN, 0L), r.rewind(), "job 3's record is read again");
        assertEquals(Map.of(IN, new OffsetAndMetadata(0)), r.done(), "and not committed");
        assertTrue(failed.isEmpty(), "nothing failed: " + failed);
        // Read again with job 2's FREE (its job ended) behind it: the FREE makes room, job 3 runs in the same poll.
        polled.clear();
        backend.calls.clear();
        add(3, EPOCH, 0, 2);
        addDecode(1, 2);      // a duplicate now: dropped by position
        addRaw(2L, ActivationCodec.encode(ActivationRecord.free(2, EPOCH)));
        r = p.process(polled, assignment);
        assertEquals(List.of(List.of("3@0+2")), backend.calls);
        assertTrue(r.rewind().isEmpty(), "nothing waits: " + r.rewind());
        assertEquals(List.of(2L), List.copyOf(backend.freed));
        assertTrue(failed.isEmpty(), "nothing failed: " + failed);
    }

    @Test
    void aBackendHoldingFewerSequencesThanTheSettingAdmitsNoMore() throws Exception {
        MockProducer<Long, ActivationRecord> producer = producer();
        RecordProcessor p = processor(producer); // 64 KV caches by the settings
        backend.capacity = 2;                   // the backend's pool holds 2
        add(1, EPOCH, 0, 2);
        add(2, EPOCH, 0, 2);
        add(3, EPOCH, 0, 2);
        RecordProcessor.Result r = p.process(polled, assignment);
        assertEquals(List.of(List.of("1@0+2", "2@0+2")), backend.calls);
        assertEquals(Map.of(IN, 2L), r.rewind(), "job 3 waits for a sequence to end, it does not fail");
        assertTrue(failed.isEmpty(), "nothing failed: " + failed);
    }

    @Test
    void aFreeDropsTheJobHereAndGoesOnToTheNextStage() throws Exception {
        MockProducer<Long, ActivationRecord> producer = producer();
        add(40, EPOCH, 0, 2);
        addRaw(40L, ActivationCodec.encode(ActivationRecord.free(40, EPOCH)));
        processor(producer).process(polled, assignment);
        assertEquals(List.of("t2:PREFILL 40@0", "t2:FREE 40@0"), sent(producer));
        assertEquals(List.of(40L), List.copyOf(backend.freed));
        assertEquals(0, ledger.size());
    }

    @Test
    void decodeStepsGoFirstPrefillIsCappedByTokensAndEachCallIsSentBeforeTheNext() throws Exception {
        List<Integer> callsAtSend = new ArrayList<>();
        MockProducer<Long, ActivationRecord> producer = new MockProducer<>(true, null, new LongSerializer(), new ActivationSerializer()) {
            @Override
            public synchronized Future<RecordMetadata> send(ProducerRecord<Long, ActivationRecord> r) {
                callsAtSend.add(backend.calls.size());
                return super.send(r);
            }
        };
        RecordProcessor p = processor(producer, maxBatchTokens(4));
        add(3, EPOCH, 0, 4);
        p.process(polled, assignment);
        polled.clear();
        backend.calls.clear();
        callsAtSend.clear();
        producer.clear();
        add(1, EPOCH, 0, 3); // prefill chunks first in the poll ...
        add(2, EPOCH, 0, 3);
        addDecode(3, 4);     // ... the decode step last
        addDecode(1, 3);     // job 1's decode step must wait for its prefill
        p.process(polled, assignment);
        assertEquals(List.of(List.of("3@4+1", "1@0+3"), List.of("1@3+1", "2@0+3")), backend.calls);
        // The first call's outputs went out before the second call ran.
        assertEquals(List.of(1, 1, 2, 2), callsAtSend);
        assertEquals(List.of("t2:DECODE 3@4", "t2:PREFILL 1@0", "t2:DECODE 1@3", "t2:PREFILL 2@0"), sent(producer));
    }

    @Test
    void stageZeroSplitsTheRunningJobsDecodeStepsIntoOneWavePerStage() throws Exception {
        MockProducer<Long, ActivationRecord> producer = producer();
        RecordProcessor.Assignment first = new RecordProcessor.Assignment(PLAN, PLAN.stages().get(0), backend, null);
        RecordProcessor p = processor(producer);
        for (long job = 1; job <= 7; job++) {
            addRaw(job, ActivationCodec.encode(ActivationRecord.prefill(job, EPOCH, 0, 0, 1, new int[] {1, 2})));
        }
        p.process(polled, first);
        assertEquals(1, backend.calls.size(), "prefill is not split by waves: " + backend.calls);
        polled.clear();
        backend.calls.clear();
        for (long job = 1; job <= 7; job++) addRaw(job, ActivationCodec.encode(ActivationRecord.decode(job, EPOCH, 2, 5)));
        p.process(polled, first);
        // 7 jobs held, 3 stages: at most ⌈7 / 3⌉ = 3 decode steps per call.
        assertEquals(List.of(3, 3, 1), backend.calls.stream().map(List::size).toList());
        // A later stage takes the waves as they come.
        polled.clear();
        backend.calls.clear();
        ledger.clear();
        for (long job = 1; job <= 7; job++) add(job, EPOCH, 0, 1);
        p.process(polled, assignment);
        assertEquals(List.of(7), backend.calls.stream().map(List::size).toList());
    }
}
