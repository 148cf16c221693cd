package dev.bunshin.worker;

import dev.bunshin.engine.EngineOptions;
import dev.bunshin.engine.LayerRange;
import dev.bunshin.engine.StageInput;
import dev.bunshin.engine.StageOutput;
import dev.bunshin.engine.StageBackend;
import dev.bunshin.engine.StageRunner;
import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.engine.tokenizer.Tokenizer;
import dev.bunshin.protocol.ActivationCodec;
import dev.bunshin.protocol.ActivationRecord;
import dev.bunshin.protocol.ActivationProducer;
import dev.bunshin.db.PlanTable;
import dev.bunshin.protocol.ProtocolException;
import dev.bunshin.protocol.RecordType;
import dev.bunshin.db.StagePlan;
import dev.bunshin.protocol.Topics;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A stage worker without its framework. {@link #start()} registers in the {@code workers} table, heartbeats, and
 * runs the poll loop on its own thread: wait for an assignment in the current stage plan, load ONLY that layer
 * range, then poll → one engine call per batch of records from many jobs → produce to the next stage → commit.
 *
 * <p>At-least-once: offsets are committed only after every output record of the poll is acknowledged (and, on
 * the tail, after the tokens are committed to the database). A redelivered record is harmless: each stage keeps
 * the next expected position per job and drops records it has already run; the tail's tokens are keyed by
 * position.
 *
 * <p>Errors in tiers: a record that cannot be decoded or that the engine refuses fails its job (jobs.error) and
 * frees it everywhere; anything else (Kafka fatal errors, database down, engine bugs) stops the worker loudly:
 * it marks itself 'stopped', the scheduler re-plans without it and re-prefills its jobs elsewhere.
 */
public final class StageWorker implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(StageWorker.class.getName());
    /** How often the loop checks for a new plan epoch (one indexed SELECT). */
    private static final long PLAN_CHECK_MILLIS = 250;

    private final DataSource db;
    private final WorkerSettings settings;
    private final WorkerRegistration registration;
    private final ScheduledExecutorService heartbeat;
    private volatile boolean running;
    private volatile Throwable failure;
    private Thread thread;
    private Consumer<Throwable> onFatal = t -> { };

    // Loop-thread state.
    private GgufFile file;
    private Tokenizer tokenizer;
    private StageBackend runner;
    private KafkaConsumer<byte[], byte[]> consumer;
    private KafkaProducer<Long, ActivationRecord> producer;
    private TailStage tail;
    private final WorkerStats stats = new WorkerStats(Duration.ofSeconds(10));
    private volatile StagePlan plan;
    private volatile StagePlan.Stage stage;
    private volatile int epoch;
    private int contextLength;
    private long lastPlanCheck;
    /** Offsets of everything run and acknowledged: committed synchronously when the consumer closes. */
    private final Map<TopicPartition, OffsetAndMetadata> processed = new HashMap<>();
    /** Next position each job's records must start at on this stage: older ones are duplicates. */
    private final Map<Long, Integer> nextPos = new java.util.concurrent.ConcurrentHashMap<>();

    public StageWorker(DataSource db, WorkerSettings settings) {
        this.db = db;
        this.settings = settings;
        this.registration = new WorkerRegistration(db, settings);
        this.heartbeat = Executors.newSingleThreadScheduledExecutor(
                r -> Thread.ofPlatform().name("bunshin-heartbeat-" + settings.id()).daemon().unstarted(r));
    }

    /** Called once if the worker stops on a fatal error (the Quarkus edge exits the process). */
    public void onFatal(Consumer<Throwable> callback) {
        this.onFatal = callback;
    }

    public synchronized void start() throws SQLException {
        if (thread != null) return;
        double speed = settings.speedGflops() > 0 ? settings.speedGflops() : SpeedProbe.measureGflops();
        registration.register(speed);
        LOG.info("worker " + settings.id() + " registered (" + String.format("%.2f", speed) + " GFLOPS, "
                + settings.memoryBytes() + " B)");
        long every = settings.heartbeat().toMillis();
        heartbeat.scheduleAtFixedRate(() -> {
            try {
                registration.heartbeat();
            } catch (Exception e) {
                LOG.warning("worker " + settings.id() + ": heartbeat failed: " + e);
            }
        }, every, every, TimeUnit.MILLISECONDS);
        running = true;
        thread = Thread.ofPlatform().name("bunshin-stage-" + settings.id()).start(this::loop);
    }

    public String id() {
        return settings.id();
    }

    /** The stage this worker runs under the plan it has loaded, or null. */
    public StagePlan.Stage stage() {
        return stage;
    }

    public int epoch() {
        return epoch;
    }

    public Throwable failure() {
        return failure;
    }

    /** Jobs with a KV cache on this stage (freed when jobs end or are cancelled). */
    public int sequenceCount() {
        return nextPos.size();
    }

    private void loop() {
        try {
            producer = ActivationProducer.create(settings.bootstrapServers(), settings.maxRecordBytes());
            while (running) {
                maybeRefreshPlan(false);
                if (stage == null) {
                    Thread.sleep(50);
                    continue;
                }
                ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(50));
                if (!records.isEmpty()) process(drain(records));
                stats.maybeLog(settings.id(), stage.index());
            }
        } catch (InterruptedException | org.apache.kafka.common.errors.InterruptException e) {
            // close() asked us to stop
        } catch (Throwable t) {
            fatal(t);
        } finally {
            closeConsumer();
            closeQuietly(producer);
            closeQuietly(runner);
            closeQuietly(file);
            nextPos.clear();
        }
    }

    // ---- plan -------------------------------------------------------------------------------------------------

    private void maybeRefreshPlan(boolean force) throws Exception {
        long now = System.currentTimeMillis();
        if (!force && now - lastPlanCheck < PLAN_CHECK_MILLIS) return;
        lastPlanCheck = now;
        StagePlan next;
        try (Connection c = db.getConnection()) {
            if (PlanTable.currentEpoch(c, settings.modelId()) == epoch) return;
            next = PlanTable.current(c, settings.modelId());
        }
        if (next == null) return;
        // Jobs of the old plan are re-prefilled by the scheduler: drop every KV cache and tail state.
        if (runner != null) for (long job : nextPos.keySet()) runner.free(job);
        nextPos.clear();
        if (tail != null) tail.clear();
        StagePlan.Stage mine = next.stageOf(settings.id());
        if (mine == null) {
            closeConsumer();
            closeQuietly(runner);
            runner = null;
            tail = null;
            stage = null;
            LOG.info("worker " + settings.id() + " has no stage in plan epoch " + next.epoch());
        } else {
            LayerRange range = new LayerRange(mine.layerStart(), mine.layerEnd());
            // The plan's context length (0 only for a plan stored before it was recorded: the model's own).
            if (runner == null || !runner.range().equals(range)
                    || (next.contextLength() > 0 && runner.contextLength() != next.contextLength())) {
                closeQuietly(runner);
                runner = null;
                if (file == null) file = GgufFile.open(settings.model());
                runner = StageRunner.load(file, range, new EngineOptions(settings.threads(), next.contextLength(),
                        settings.maxSequences()));
                contextLength = runner.contextLength();
            }
            if (stage == null || !stage.topic().equals(mine.topic())) {
                closeConsumer();
                consumer = newConsumer(mine);
            }
            if (next.isLast(mine)) {
                if (tokenizer == null) tokenizer = Tokenizer.fromGguf(file);
                tail = new TailStage(db, tokenizer, contextLength);
            } else {
                tail = null;
            }
            stage = mine;
            LOG.info("worker " + settings.id() + " runs stage " + mine.index() + " layers " + range + " of "
                    + next.stages().size() + " (plan epoch " + next.epoch() + ")");
        }
        plan = next;
        epoch = next.epoch();
        registration.loaded(epoch);
    }

    // ---- the hot path -----------------------------------------------------------------------------------------

    /**
     * A fetch answers as soon as ONE record is there (fetch.min.bytes=1), so under load every poll would carry a
     * single job. Take whatever further fetches have already brought in, without waiting, so that one engine call
     * serves many jobs (continuous batching) while an idle pipeline still answers at once.
     */
    private List<ConsumerRecord<byte[], byte[]>> drain(ConsumerRecords<byte[], byte[]> first) {
        List<ConsumerRecord<byte[], byte[]>> all = new ArrayList<>(first.count());
        first.forEach(all::add);
        for (int i = 0; i < 4 && all.size() < settings.maxBatchTokens(); i++) {
            ConsumerRecords<byte[], byte[]> more = consumer.poll(Duration.ZERO);
            if (more.isEmpty()) break;
            more.forEach(all::add);
        }
        return all;
    }

    private void process(List<ConsumerRecord<byte[], byte[]>> all) throws Exception {
        Map<TopicPartition, OffsetAndMetadata> done = new HashMap<>();
        Batch batch = new Batch();
        List<ProducerRecord<Long, ActivationRecord>> out = new ArrayList<>();
        int abortAt = -1;
        for (int i = 0; i < all.size(); i++) {
            ConsumerRecord<byte[], byte[]> cr = all.get(i);
            TopicPartition tp = new TopicPartition(cr.topic(), cr.partition());
            ActivationRecord r;
            try {
                r = ActivationCodec.decode(cr.value());
            } catch (ProtocolException e) {
                badRecord(cr, e, out);
                done.put(tp, new OffsetAndMetadata(cr.offset() + 1));
                continue;
            }
            if (r.epoch() > epoch) {
                // A newer plan than ours: finish what we have, then re-read the plan before going on.
                abortAt = i;
                break;
            }
            if (r.epoch() == epoch) handle(r, batch, out);
            // else: a record of an older plan; its job is re-prefilled under the current one.
            done.put(tp, new OffsetAndMetadata(cr.offset() + 1));
        }
        flush(batch, out);
        send(out);
        // Asynchronous: the outputs are already acknowledged, so a lost commit only means a harmless redelivery,
        // and the next poll need not wait for the coordinator's round trip.
        processed.putAll(done);
        if (!done.isEmpty()) consumer.commitAsync(done, (offsets, e) -> {
            if (e != null) LOG.warning("worker " + settings.id() + ": offset commit failed (records will be re-run): " + e);
        });
        if (abortAt >= 0) {
            // Records from abortAt on were fetched but not run: rewind so they are read again under the new plan.
            Map<TopicPartition, Long> rewind = new HashMap<>();
            for (int j = abortAt; j < all.size(); j++) {
                rewind.putIfAbsent(new TopicPartition(all.get(j).topic(), all.get(j).partition()), all.get(j).offset());
            }
            rewind.forEach(consumer::seek);
            lastPlanCheck = 0;
        }
    }

    private void handle(ActivationRecord r, Batch batch, List<ProducerRecord<Long, ActivationRecord>> out)
            throws SQLException {
        if (r.type() == RecordType.FREE) {
            flush(batch, out); // the job's earlier records in this poll go first
            freeLocal(r.jobId());
            if (!plan.isLast(stage)) out.add(new ProducerRecord<>(plan.nextTopic(stage), r.jobId(), r));
            return;
        }
        Integer expected = nextPos.get(r.jobId());
        int from = expected == null ? 0 : expected;
        if (r.pos() + r.nTokens() <= from && expected != null) return; // already run: a redelivered duplicate
        if (r.pos() != from) {
            // Not the next positions: a record for a job this stage no longer (or never) held, e.g. after FREE.
            LOG.warning("worker " + settings.id() + " stage " + stage.index() + ": dropping " + r
                    + ", expected position " + from);
            return;
        }
        if (batch.contains(r.jobId()) || batch.tokens + r.nTokens() > settings.maxBatchTokens()) flush(batch, out);
        batch.add(r);
        nextPos.put(r.jobId(), r.pos() + r.nTokens());
    }

    /** One engine call for the batch, outputs queued in input order. */
    private void flush(Batch batch, List<ProducerRecord<Long, ActivationRecord>> out) throws SQLException {
        if (batch.records.isEmpty()) return;
        List<ActivationRecord> recs = new ArrayList<>(batch.records.values());
        batch.clear();
        List<StageInput> inputs = new ArrayList<>(recs.size());
        for (ActivationRecord r : recs) {
            inputs.add(r.tokens() != null ? StageInput.ofTokens(r.jobId(), r.pos(), r.tokens())
                    : StageInput.ofActivations(r.jobId(), r.pos(), r.activations()));
        }
        List<StageOutput> outputs;
        long t0 = System.nanoTime();
        try {
            outputs = runner.forward(inputs);
            stats.engineCall(inputs.size(), System.nanoTime() - t0);
        } catch (IllegalArgumentException e) {
            // Some job's record is bad (position beyond the context, wrong kind for this stage): find which.
            outputs = new ArrayList<>();
            for (int i = 0; i < inputs.size(); i++) {
                try {
                    outputs.add(runner.forward(List.of(inputs.get(i))).getFirst());
                } catch (IllegalArgumentException bad) {
                    outputs.add(null);
                    failJob(recs.get(i).jobId(), "stage " + stage.index() + " (" + settings.id() + "): "
                            + bad.getMessage(), out);
                }
            }
        }
        if (tail == null) {
            String next = plan.nextTopic(stage);
            for (int i = 0; i < recs.size(); i++) {
                StageOutput o = outputs.get(i);
                if (o == null) continue;
                ActivationRecord r = recs.get(i);
                out.add(new ProducerRecord<>(next, r.jobId(), r.withActivations(o.activations(), settings.precision())));
            }
        } else {
            List<TailStage.Logits> logits = new ArrayList<>();
            for (int i = 0; i < recs.size(); i++) {
                if (outputs.get(i) != null && recs.get(i).samples()) {
                    logits.add(new TailStage.Logits(recs.get(i), outputs.get(i).logits()));
                }
            }
            String first = plan.stages().getFirst().topic();
            for (ActivationRecord r : tail.onLogits(logits, epoch)) {
                out.add(new ProducerRecord<>(first, r.jobId(), r));
            }
        }
    }

    private void send(List<ProducerRecord<Long, ActivationRecord>> out) throws Exception {
        if (out.isEmpty()) return;
        long t0 = System.nanoTime();
        List<Future<RecordMetadata>> acks = new ArrayList<>(out.size());
        for (ProducerRecord<Long, ActivationRecord> r : out) acks.add(producer.send(r));
        producer.flush();
        stats.sent(System.nanoTime() - t0);
        // Commit only what the next stage is sure to get. A record too large for the topic is that job's problem
        // (fail it); any other send failure stops the worker, offsets uncommitted, so the records run again.
        List<ProducerRecord<Long, ActivationRecord>> frees = new ArrayList<>();
        for (int i = 0; i < acks.size(); i++) {
            try {
                acks.get(i).get(60, TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException e) {
                if (!(e.getCause() instanceof org.apache.kafka.common.errors.RecordTooLargeException)) throw e;
                ProducerRecord<Long, ActivationRecord> r = out.get(i);
                failJob(r.key(), "record " + r.value() + " too large for topic " + r.topic() + " ("
                        + e.getCause().getMessage() + "); raise bunshin.max-record-bytes and the topic's max.message.bytes", frees);
            }
        }
        if (!frees.isEmpty()) send(frees);
    }

    private void freeLocal(long jobId) {
        nextPos.remove(jobId);
        if (runner != null) runner.free(jobId);
        if (tail != null) tail.free(jobId);
    }

    private void failJob(long jobId, String error, List<ProducerRecord<Long, ActivationRecord>> out) throws SQLException {
        TailStage.failJobRow(db, jobId, error);
        freeLocal(jobId);
        out.add(new ProducerRecord<>(plan.stages().getFirst().topic(), jobId, ActivationRecord.free(jobId, epoch)));
    }

    private void badRecord(ConsumerRecord<byte[], byte[]> cr, ProtocolException e,
                           List<ProducerRecord<Long, ActivationRecord>> out) throws SQLException {
        byte[] key = cr.key();
        String where = cr.topic() + "-" + cr.partition() + "@" + cr.offset();
        if (key == null || key.length != 8) {
            LOG.severe("worker " + settings.id() + ": undecodable record without a job key at " + where + ": "
                    + e.getMessage());
            return;
        }
        long jobId = java.nio.ByteBuffer.wrap(key).getLong();
        failJob(jobId, "bad record at " + where + ": " + e.getMessage(), out);
    }

    private void fatal(Throwable t) {
        failure = t;
        running = false;
        LOG.log(Level.SEVERE, "STAGE WORKER " + settings.id() + " STOPPING: " + t, t);
        heartbeat.shutdownNow();
        try {
            registration.stopped(String.valueOf(t));
        } catch (Exception e) {
            LOG.warning("worker " + settings.id() + ": could not mark itself stopped: " + e);
        }
        onFatal.accept(t);
    }

    // ---- clients ----------------------------------------------------------------------------------------------

    private KafkaConsumer<byte[], byte[]> newConsumer(StagePlan.Stage s) throws InterruptedException {
        Map<String, Object> p = new HashMap<>();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, settings.bootstrapServers());
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
        if (parts == null || parts.isEmpty()) throw new IllegalStateException("topic " + s.topic() + " has no partitions");
        List<TopicPartition> tps = new ArrayList<>();
        for (PartitionInfo pi : parts) tps.add(new TopicPartition(pi.topic(), pi.partition()));
        c.assign(tps);
        return c;
    }

    /** Makes sure the asynchronous commits of what was run are stored, then closes the consumer. */
    private void closeConsumer() {
        if (consumer == null) return;
        try {
            if (!processed.isEmpty()) consumer.commitSync(processed, Duration.ofSeconds(10));
        } catch (Exception e) {
            LOG.warning("worker " + settings.id() + ": final offset commit failed (records will be re-run): " + e);
        }
        processed.clear();
        closeQuietly(consumer);
        consumer = null;
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c == null) return;
        try {
            c.close();
        } catch (Exception e) {
            LOG.fine("close: " + e);
        }
    }

    @Override
    public void close() {
        running = false;
        heartbeat.shutdownNow();
        Thread t = thread;
        if (t != null) {
            try {
                t.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (failure == null) {
            try {
                registration.stopped(null);
            } catch (Exception e) {
                LOG.warning("worker " + settings.id() + ": could not mark itself stopped: " + e);
            }
        }
    }

    /** Records for one engine call: at most one per job (a job's chunks run in order, one call each). */
    private static final class Batch {
        final LinkedHashMap<Long, ActivationRecord> records = new LinkedHashMap<>();
        int tokens;

        boolean contains(long jobId) {
            return records.containsKey(jobId);
        }

        void add(ActivationRecord r) {
            records.put(r.jobId(), r);
            tokens += r.nTokens();
        }

        void clear() {
            records.clear();
            tokens = 0;
        }
    }
}
