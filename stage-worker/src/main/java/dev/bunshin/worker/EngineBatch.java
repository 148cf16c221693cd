package dev.bunshin.worker;

import dev.bunshin.engine.StageBackend;
import dev.bunshin.engine.StageInput;
import dev.bunshin.engine.StageOutput;
import dev.bunshin.protocol.ActivationRecord;
import dev.bunshin.protocol.RecordType;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Set;

/**
 * Records for one engine call, from many jobs (continuous batching): at most one record per job, since a job's
 * chunks must run in order, one call each; any number of decode steps (their count is the caller's: one wave) and
 * at most {@code maxTokens} prompt positions besides (a single larger prompt chunk still runs, alone among prompts).
 * Decode steps do not count against the prompt positions: a wave of decode steps as large as the cap would
 * otherwise leave no room for any prompt, and new jobs would wait for running ones to end.
 */
final class EngineBatch {

    /** Called for a record the backend refused (its own bad data: position beyond the context, wrong kind). */
    interface Refused {
        void accept(ActivationRecord r, IllegalArgumentException why) throws Exception;
    }

    private final int maxTokens;
    private final LinkedHashMap<Long, ActivationRecord> records = new LinkedHashMap<>();
    private int tokens;

    EngineBatch(int maxTokens) {
        if (maxTokens < 1) throw new IllegalArgumentException("maxTokens must be >= 1, got " + maxTokens);
        this.maxTokens = maxTokens;
    }

    /** Whether {@code r} can join this call (else flush first). */
    boolean fits(ActivationRecord r) {
        if (records.containsKey(r.jobId())) return false;
        return isDecode(r) || tokens == 0 || tokens + r.nTokens() <= maxTokens;
    }

    private static boolean isDecode(ActivationRecord r) {
        return r.type() == RecordType.DECODE;
    }

    boolean contains(long jobId) {
        return records.containsKey(jobId);
    }

    void add(ActivationRecord r) {
        if (!fits(r)) throw new IllegalStateException("record " + r + " does not fit the batch: flush first");
        records.put(r.jobId(), r);
        if (!isDecode(r)) tokens += r.nTokens();
    }

    boolean isEmpty() {
        return records.isEmpty();
    }

    /** The records in arrival order; the batch is empty afterwards. */
    List<ActivationRecord> take() {
        List<ActivationRecord> out = new ArrayList<>(records.values());
        records.clear();
        tokens = 0;
        return out;
    }

    /**
     * Runs {@code recs} through the backend in one call. If the backend refuses the call, some record is bad: the
     * batch is bisected until the bad ones are alone, so every good record still runs and only a bad one's job
     * fails. Outputs are in input order, null for a refused record.
     */
    static List<StageOutput> run(StageBackend backend, List<ActivationRecord> recs, Refused refused) throws Exception {
        return run(backend, recs, Set.of(), refused);
    }

    /** As {@link #run(StageBackend, List, Refused)}; the inputs of {@code pooled} jobs ask for their pooled part. */
    static List<StageOutput> run(StageBackend backend, List<ActivationRecord> recs, Set<Long> pooled, Refused refused)
            throws Exception {
        List<StageInput> inputs = new ArrayList<>(recs.size());
        for (ActivationRecord r : recs) {
            StageInput in = r.tokens() != null ? StageInput.ofTokens(r.jobId(), r.pos(), r.tokens())
                    : StageInput.ofActivations(r.jobId(), r.pos(), r.activations());
            inputs.add(pooled.contains(r.jobId()) ? in.pooled() : in);
        }
        List<StageOutput> out = new ArrayList<>(recs.size());
        bisect(backend, recs, inputs, 0, recs.size(), refused, out);
        return out;
    }

    private static void bisect(StageBackend backend, List<ActivationRecord> recs, List<StageInput> inputs, int from,
                               int to, Refused refused, List<StageOutput> out) throws Exception {
        try {
            out.addAll(backend.forward(inputs.subList(from, to)));
        } catch (IllegalArgumentException e) {
            if (to - from == 1) {
                refused.accept(recs.get(from), e);
                out.add(null);
                return;
            }
            int mid = (from + to) >>> 1;
            bisect(backend, recs, inputs, from, mid, refused, out);
            bisect(backend, recs, inputs, mid, to, refused, out);
        }
    }
}
