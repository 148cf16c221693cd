package dev.bunshin.worker;

import dev.bunshin.db.StagePlan;
import dev.bunshin.engine.StageBackend;
import dev.bunshin.engine.StageOutput;
import dev.bunshin.protocol.ActivationCodec;
import dev.bunshin.protocol.ActivationRecord;
import dev.bunshin.protocol.ProtocolException;
import dev.bunshin.protocol.RecordType;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.logging.Logger;

/**
 * One poll's records through this stage: decode → drop other plans' and duplicate records → engine calls of many
 * jobs at once (decode steps first, prefill chunks under a token cap) → each call's outputs produced at once to the
 * next stage (on the tail: sampled first) → wait for the acknowledgements.
 * Returns which offsets may be committed and, when a record of a newer plan came, where to read again.
 *
 * <p>With overlapped acknowledgements (the stage worker's mode) a poll's acknowledgements are not waited for at its
 * end but while the next poll's first engine call runs: before anything of the next poll is sent, so a job's records
 * still reach the next stage in position order when one has to go again. Each result then reports the offsets of
 * the poll before (a broker 5 ms away costs a 10-ms round trip per poll, which the engine no longer sits out).
 */
final class RecordProcessor {

    private static final Logger LOG = Logger.getLogger(RecordProcessor.class.getName());

    /** What this worker runs under the plan it has loaded; {@code tail} is null unless the stage is the last. */
    record Assignment(StagePlan plan, StagePlan.Stage stage, StageBackend backend, TailStage tail) {
        int epoch() {
            return plan.epoch();
        }
    }

    /** Fails a job in the database for its own bad data (a no-op once it has ended). */
    interface JobFailer {
        void fail(long jobId, String error) throws Exception;
    }

    /**
     * @param done   offsets to commit: every record up to them ran and its outputs are acknowledged
     * @param rewind where to read again (records of a newer plan, fetched but not run); empty if none
     */
    record Result(Map<TopicPartition, OffsetAndMetadata> done, Map<TopicPartition, Long> rewind) {
    }

    private final WorkerSettings settings;
    private final PositionLedger ledger;
    private final Producer<Long, ActivationRecord> producer;
    private final JobFailer failer;
    private final WorkerStats stats;
    private final WorkerMetrics metrics;
    /** False once the worker closes: a wait for the broker then gives up. */
    private final BooleanSupplier running;
    /** Whether a wait for the broker has been logged (once per outage). */
    private volatile boolean waitLogged;
    /** Whether a poll's acknowledgements are awaited during the next poll (see the class comment). */
    private final boolean overlapAcks;
    /** A poll's sends not yet acknowledged, the offsets they free, and the assignment they ran under. */
    private record Pending(List<Future<RecordMetadata>> acks, List<ProducerRecord<Long, ActivationRecord>> sent,
                           Map<TopicPartition, OffsetAndMetadata> done, Assignment a) {
    }
    /** The previous poll's, in overlapped mode; null once settled. */
    private Pending previous;
    /** Offsets freed by settling {@link #previous}, not yet reported. */
    private final Map<TopicPartition, OffsetAndMetadata> settled = new HashMap<>();

    RecordProcessor(WorkerSettings settings, PositionLedger ledger, Producer<Long, ActivationRecord> producer,
                    JobFailer failer, WorkerStats stats) {
        this(settings, ledger, producer, failer, stats, WorkerMetrics.none(settings), () -> true);
    }

    RecordProcessor(WorkerSettings settings, PositionLedger ledger, Producer<Long, ActivationRecord> producer,
                    JobFailer failer, WorkerStats stats, WorkerMetrics metrics, BooleanSupplier running) {
        this(settings, ledger, producer, failer, stats, metrics, running, false);
    }

    RecordProcessor(WorkerSettings settings, PositionLedger ledger, Producer<Long, ActivationRecord> producer,
                    JobFailer failer, WorkerStats stats, WorkerMetrics metrics, BooleanSupplier running,
                    boolean overlapAcks) {
        this.overlapAcks = overlapAcks;
        this.running = running;
        this.metrics = metrics;
        this.settings = settings;
        this.ledger = ledger;
        this.producer = producer;
        this.failer = failer;
        this.stats = stats;
    }

    Result process(List<ConsumerRecord<byte[], byte[]>> all, Assignment a) throws Exception {
        if (previous != null && previous.a().epoch() != a.epoch()) {
            // The previous poll ran under another plan: its outputs are settled before anything of this one runs,
            // and its offsets dropped (they may be another consumer's: its records are run again, and dropped as old).
            settlePrevious();
            settled.clear();
        }
        Map<TopicPartition, OffsetAndMetadata> done = new HashMap<>();
        // Each job's records in arrival order: a job's records must run in order, different jobs' need not.
        LinkedHashMap<Long, ArrayDeque<ActivationRecord>> queues = new LinkedHashMap<>();
        // Where each queued record came from: one that cannot run yet is read again from there.
        Map<ActivationRecord, ConsumerRecord<byte[], byte[]>> source = new java.util.IdentityHashMap<>();
        List<Future<RecordMetadata>> acks = new ArrayList<>();
        List<ProducerRecord<Long, ActivationRecord>> sent = new ArrayList<>();
        int abortAt = -1;
        for (int i = 0; i < all.size(); i++) {
            ConsumerRecord<byte[], byte[]> cr = all.get(i);
            TopicPartition tp = new TopicPartition(cr.topic(), cr.partition());
            ActivationRecord r;
            try {
                r = ActivationCodec.decode(cr.value());
            } catch (ProtocolException e) {
                List<ProducerRecord<Long, ActivationRecord>> out = new ArrayList<>();
                badRecord(cr, e, a, out);
                if (!out.isEmpty()) settlePrevious();
                send(out, acks, sent);
                done.put(tp, new OffsetAndMetadata(cr.offset() + 1));
                continue;
            }
            if (r.epoch() > a.epoch()) {
                // A newer plan than ours: finish what we have, then re-read the plan before going on.
                abortAt = i;
                break;
            }
            if (r.epoch() == a.epoch()) {
                queues.computeIfAbsent(r.jobId(), k -> new ArrayDeque<>()).add(r);
                source.put(r, cr);
            }
            // else: a record of an older plan; its job is re-prefilled under the current one.
            done.put(tp, new OffsetAndMetadata(cr.offset() + 1));
        }
        Map<TopicPartition, Long> waiting = new HashMap<>();
        while (!queues.isEmpty()) {
            int before = queued(queues);
            List<ProducerRecord<Long, ActivationRecord>> out = new ArrayList<>();
            EngineBatch batch = nextBatch(queues, a, out);
            boolean idle = batch.isEmpty() && out.isEmpty() && queued(queues) == before;
            flush(batch, a, out, () -> {
                send(out, acks, sent);
                out.clear();
            });
            // Out at once, before the next engine call: the next stage starts on these while this one goes on.
            if (!out.isEmpty()) settlePrevious();
            send(out, acks, sent);
            if (idle) {
                // Nothing left can run: new jobs while every KV cache is taken (an ended job's FREE is still on its
                // way round). Not a failure: they are read again, from their offsets, until a cache is free.
                for (ArrayDeque<ActivationRecord> q : queues.values()) {
                    for (ActivationRecord r : q) {
                        ConsumerRecord<byte[], byte[]> cr = source.get(r);
                        waiting.merge(new TopicPartition(cr.topic(), cr.partition()), cr.offset(), Math::min);
                    }
                }
                queues.clear();
                Thread.sleep(5);
            }
        }
        Map<TopicPartition, Long> rewind = new HashMap<>(waiting);
        waiting.forEach((tp, offset) -> done.put(tp, new OffsetAndMetadata(offset)));
        if (abortAt >= 0) {
            // Records from abortAt on were fetched but not run: read them again under the new plan.
            for (int j = abortAt; j < all.size(); j++) {
                rewind.merge(new TopicPartition(all.get(j).topic(), all.get(j).partition()), all.get(j).offset(), Math::min);
            }
        }
        if (overlapAcks && rewind.isEmpty() && !acks.isEmpty()) {
            // Settled while the next poll's first engine call runs; reported then.
            settlePrevious();
            previous = new Pending(acks, sent, done, a);
            return new Result(takeSettled(), rewind);
        }
        // Nothing of this poll to wait for later, or offsets to read again: everything settles now, in poll order.
        settlePrevious();
        awaitAcks(acks, sent, a);
        Map<TopicPartition, OffsetAndMetadata> reported = takeSettled();
        reported.putAll(done);
        return new Result(reported, rewind);
    }

    /** Whether a poll's acknowledgements are still awaited (overlapped mode). */
    boolean hasPending() {
        return previous != null;
    }

    /** Waits for the pending poll's acknowledgements (a poll that brought nothing): the offsets they free. */
    Map<TopicPartition, OffsetAndMetadata> settle() throws Exception {
        settlePrevious();
        return takeSettled();
    }

    /** Waits for the previous poll's acknowledgements (sending again what failed transiently); keeps its offsets. */
    private void settlePrevious() throws Exception {
        Pending p = previous;
        if (p == null) return;
        previous = null;
        awaitAcks(p.acks(), p.sent(), p.a());
        settled.putAll(p.done());
    }

    private Map<TopicPartition, OffsetAndMetadata> takeSettled() {
        Map<TopicPartition, OffsetAndMetadata> m = new HashMap<>(settled);
        settled.clear();
        return m;
    }

    private static int queued(Map<Long, ArrayDeque<ActivationRecord>> queues) {
        int n = 0;
        for (ArrayDeque<ActivationRecord> q : queues.values()) n += q.size();
        return n;
    }

    /**
     * The next engine call from the jobs' queues: at most one record per job; decode steps first,
     * at most {@link #decodeCap} of them, then prefill chunks in arrival order up to the token cap. A FREE at the
     * head of a queue (its job's earlier records have run) is handled on the spot; duplicates and gaps are dropped.
     */
    private EngineBatch nextBatch(LinkedHashMap<Long, ArrayDeque<ActivationRecord>> queues, Assignment a,
                                  List<ProducerRecord<Long, ActivationRecord>> out) throws Exception {
        EngineBatch batch = new EngineBatch(settings.maxBatchTokens());
        int decodes = 0;
        int cap = decodeCap(a);
        for (int pass = 0; pass < 2; pass++) {
            for (var it = queues.entrySet().iterator(); it.hasNext(); ) {
                var e = it.next();
                ArrayDeque<ActivationRecord> q = e.getValue();
                while (!q.isEmpty() && !batch.contains(e.getKey())) {
                    ActivationRecord r = q.peekFirst();
                    if (r.type() == RecordType.FREE) {
                        q.pollFirst();
                        free(r.jobId(), a);
                        if (!a.plan().isLast(a.stage())) out.add(new ProducerRecord<>(a.plan().nextTopic(a.stage()), r.jobId(), r));
                        continue;
                    }
                    PositionLedger.Verdict v = ledger.check(r);
                    if (v == PositionLedger.Verdict.DUPLICATE) {
                        q.pollFirst(); // already run: a redelivered duplicate
                        continue;
                    }
                    if (v == PositionLedger.Verdict.GAP) {
                        q.pollFirst();
                        LOG.warning("worker " + settings.id() + " stage " + a.stage().index() + ": dropping " + r
                                + ", expected position " + ledger.expected(r.jobId()));
                        continue;
                    }
                    boolean decode = r.type() == RecordType.DECODE;
                    if (pass == 0 ? !decode || decodes >= cap : decode) break;
                    // A job new here needs a KV cache of its own: none free, it waits (see process).
                    if (!ledger.holds(r.jobId()) && ledger.size() >= sequenceCapacity(a)) break;
                    if (!batch.fits(r)) break;
                    q.pollFirst();
                    batch.add(r);
                    ledger.advance(r);
                    if (decode) decodes++;
                }
                if (q.isEmpty()) it.remove();
            }
        }
        return batch;
    }

    /** Jobs this stage may hold at once: the setting, or fewer if the backend's KV pool holds fewer. */
    private int sequenceCapacity(Assignment a) {
        return a.backend() == null ? settings.maxSequences() : Math.min(settings.maxSequences(), a.backend().sequenceCapacity());
    }

    /**
     * Decode steps per engine call. On stage 0, where every step enters the pipeline: at most the jobs held here ÷
     * micro-batches (rounded up), so the jobs flow as that many waves: while one wave is on a later stage the next
     * one runs here, and no stage waits for another. Elsewhere no cap: the waves come formed.
     */
    private int decodeCap(Assignment a) {
        return a.stage().index() == 0 && waves(a) > 1 ? waveSize(a) : Integer.MAX_VALUE;
    }

    private int waves(Assignment a) {
        return settings.microBatches() > 0 ? settings.microBatches() : a.plan().stages().size();
    }

    /** Decode steps in one wave: the jobs held here ÷ waves, rounded up (at least 1). */
    int waveSize(Assignment a) {
        int waves = waves(a);
        return Math.max(1, (ledger.size() + waves - 1) / waves);
    }

    /**
     * One engine call for the batch, outputs queued in input order. On the tail, {@code sendOut} sends what is
     * queued so far at once, before the tokens are stored (the next steps' DECODEs: see {@link TailStage}).
     */
    private void flush(EngineBatch batch, Assignment a, List<ProducerRecord<Long, ActivationRecord>> out,
                       Runnable sendOut) throws Exception {
        if (batch.isEmpty()) return;
        List<ActivationRecord> recs = batch.take();
        long t0 = System.nanoTime();
        Set<Long> pooled = a.tail() != null && a.backend().poolsOnRequest() ? a.tail().embeddingJobs(recs) : Set.of();
        List<StageOutput> outputs = EngineBatch.run(a.backend(), recs, pooled, (bad, why) -> failJob(bad.jobId(),
                "stage " + a.stage().index() + " (" + settings.id() + "): " + why.getMessage(), a, out));
        stats.engineCall(recs.size(), System.nanoTime() - t0);
        metrics.engineCall(a.stage().index(), recs, System.nanoTime() - t0);
        // The previous poll's acknowledgements came in while the engine ran (overlapped mode): settled before any send.
        settlePrevious();
        if (a.tail() == null) {
            String next = a.plan().nextTopic(a.stage());
            for (int i = 0; i < recs.size(); i++) {
                StageOutput o = outputs.get(i);
                if (o == null) continue;
                ActivationRecord r = recs.get(i);
                out.add(new ProducerRecord<>(next, r.jobId(), r.withActivations(o.activations(), settings.precision())));
            }
        } else {
            List<TailStage.Logits> logits = new ArrayList<>();
            // Every record: the tail samples after a job's last chunk, and pools every chunk of an embedding job.
            for (int i = 0; i < recs.size(); i++) {
                StageOutput o = outputs.get(i);
                if (o != null) logits.add(new TailStage.Logits(recs.get(i), o.logits(), o.pooled()));
            }
            String first = a.plan().stages().getFirst().topic();
            long t1 = System.nanoTime();
            a.tail().onLogits(logits, a.epoch(), early -> {
                for (ActivationRecord r : early) out.add(new ProducerRecord<>(first, r.jobId(), r));
                sendOut.run();
            }, late -> sendLate(first, late));
            stats.tail(System.nanoTime() - t1, a.tail().takeStoreNanos());
        }
    }

    /**
     * On the tail's store thread: records decided by a batch's transaction (FREEs), sent to stage 0 and waited for.
     * A send that failed transiently goes again (a FREE twice is harmless); any other failure is the worker's.
     */
    private void sendLate(String topic, List<ActivationRecord> records) throws Exception {
        List<ActivationRecord> left = records;
        while (!left.isEmpty()) {
            List<Future<RecordMetadata>> acks = new ArrayList<>(left.size());
            for (ActivationRecord r : left) acks.add(producer.send(new ProducerRecord<>(topic, r.jobId(), r)));
            List<ActivationRecord> again = new ArrayList<>();
            for (int i = 0; i < acks.size(); i++) {
                try {
                    await(acks.get(i));
                } catch (ExecutionException e) {
                    if (!ErrorTiers.isTransient(e)) throw e;
                    again.add(left.get(i));
                }
            }
            left = again;
        }
    }

    /** Hands records to the producer (sent at once: linger 0); their acknowledgements are awaited later. */
    private void send(List<ProducerRecord<Long, ActivationRecord>> out, List<Future<RecordMetadata>> acks,
                      List<ProducerRecord<Long, ActivationRecord>> sent) {
        if (out.isEmpty()) return;
        // The previous poll's records go first (settlePrevious): one sent again must not overtake its job's later ones.
        if (previous != null) throw new IllegalStateException("the previous poll's acknowledgements are not settled");
        long t0 = System.nanoTime();
        for (ProducerRecord<Long, ActivationRecord> r : out) {
            acks.add(producer.send(r));
            sent.add(r);
        }
        stats.sent(System.nanoTime() - t0);
    }

    /**
     * Waits for every acknowledgement: offsets are committed only for what the next stage is sure to get. A record
     * too large for its topic is its job's fault (the job fails). The broker away is waited out (issue 10): a send
     * still unacknowledged is waited for as long as the worker runs, and one that failed with a transient error (the
     * producer's delivery timeout) is sent again with its job's later records, in the order sent (stages drop
     * duplicates by position). Any other
     * send failure is the worker's and is thrown, offsets uncommitted, so the records run again elsewhere.
     */
    private void awaitAcks(List<Future<RecordMetadata>> acks, List<ProducerRecord<Long, ActivationRecord>> sent,
                           Assignment a) throws Exception {
        while (!acks.isEmpty()) {
            long t0 = System.nanoTime();
            // Per job, the first record whose send failed transiently: it and the job's later records go again.
            Map<Long, Integer> firstFailed = new HashMap<>();
            List<ProducerRecord<Long, ActivationRecord>> frees = new ArrayList<>();
            for (int i = 0; i < acks.size(); i++) {
                try {
                    await(acks.get(i));
                } catch (ExecutionException e) {
                    ProducerRecord<Long, ActivationRecord> r = sent.get(i);
                    if (ErrorTiers.isTransient(e)) {
                        firstFailed.putIfAbsent(r.key(), i);
                        logWait("sending " + r.value() + " to " + r.topic() + " failed (" + e.getCause() + "); sending again");
                        continue;
                    }
                    if (!ErrorTiers.isJobsFault(e)) throw e;
                    failJob(r.key(), "record " + r.value() + " too large for topic " + r.topic() + " ("
                            + e.getCause().getMessage() + "); raise bunshin.max-record-bytes and the topic's max.message.bytes",
                            a, frees);
                }
            }
            // A job's later records go again even if acknowledged: the next stage runs a job's records in position
            // order (it would drop one that came before the one sent again) and drops the duplicates.
            List<ProducerRecord<Long, ActivationRecord>> again = new ArrayList<>();
            for (int i = 0; i < sent.size(); i++) {
                Integer first = firstFailed.get(sent.get(i).key());
                if (first != null && i >= first) again.add(sent.get(i));
            }
            stats.acked(System.nanoTime() - t0);
            acks.clear();
            sent.clear();
            send(again, acks, sent);
            send(frees, acks, sent);
        }
        if (waitLogged) {
            waitLogged = false;
            LOG.warning("worker " + settings.id() + ": the broker acknowledges again");
        }
    }

    /** Waits for one acknowledgement while the worker runs, logging once when the broker is slow to give it. */
    private void await(Future<RecordMetadata> ack) throws ExecutionException, InterruptedException {
        long started = System.nanoTime();
        while (true) {
            try {
                ack.get(1, TimeUnit.SECONDS);
                return;
            } catch (java.util.concurrent.TimeoutException e) {
                if (!running.getAsBoolean()) throw new InterruptedException("worker " + settings.id() + " closing");
                if (System.nanoTime() - started > 10_000_000_000L) {
                    logWait("no acknowledgement from the broker for 10 s; waiting (the producer retries)");
                }
            }
        }
    }

    private void logWait(String what) {
        if (waitLogged) return;
        waitLogged = true;
        LOG.warning("worker " + settings.id() + ": " + what + " until the broker is back");
    }

    /** Drops the job's state on this stage (its KV cache, its tail state). */
    void free(long jobId, Assignment a) {
        ledger.free(jobId);
        if (a.backend() != null) a.backend().free(jobId);
        if (a.tail() != null) a.tail().free(jobId);
    }

    /** The job's fault: its row says why, and a FREE to stage 0 goes round every stage. */
    private void failJob(long jobId, String error, Assignment a, List<ProducerRecord<Long, ActivationRecord>> out)
            throws Exception {
        failer.fail(jobId, error);
        free(jobId, a);
        out.add(new ProducerRecord<>(a.plan().stages().getFirst().topic(), jobId, ActivationRecord.free(jobId, a.epoch())));
    }

    private void badRecord(ConsumerRecord<byte[], byte[]> cr, ProtocolException e, Assignment a,
                           List<ProducerRecord<Long, ActivationRecord>> out) throws Exception {
        byte[] key = cr.key();
        String where = cr.topic() + "-" + cr.partition() + "@" + cr.offset();
        if (key == null || key.length != 8) {
            LOG.severe("worker " + settings.id() + ": undecodable record without a job key at " + where + ": "
                    + e.getMessage());
            return;
        }
        failJob(ByteBuffer.wrap(key).getLong(), "bad record at " + where + ": " + e.getMessage(), a, out);
    }
}
