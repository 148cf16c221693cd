package dev.bunshin.worker;

import dev.bunshin.protocol.ActivationRecord;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The next position each job's records must start at on this stage. Kafka delivers at least once, so a record may
 * come again after it ran (a rewind, a restart before the commit): such a duplicate is dropped by position, which
 * is what makes redelivery harmless. A job is here while this stage holds its KV cache.
 */
final class PositionLedger {

    /** What to do with a record. */
    enum Verdict {
        /** Its positions continue the job: run it. */
        NEXT,
        /** Its positions already ran: a redelivered duplicate, drop it. */
        DUPLICATE,
        /** It does not continue the job (e.g. a job this stage freed, or never held): drop it, loudly. */
        GAP
    }

    private final Map<Long, Integer> next = new ConcurrentHashMap<>(); // read by sequenceCount() from other threads

    Verdict check(ActivationRecord r) {
        Integer expected = next.get(r.jobId());
        int from = expected == null ? 0 : expected;
        if (expected != null && r.pos() + r.nTokens() <= from) return Verdict.DUPLICATE;
        return r.pos() == from ? Verdict.NEXT : Verdict.GAP;
    }

    /** The position the job's next record must start at (0 for a job not held). */
    int expected(long jobId) {
        return next.getOrDefault(jobId, 0);
    }

    /** The record is taken: the job continues after it. */
    void advance(ActivationRecord r) {
        next.put(r.jobId(), r.pos() + r.nTokens());
    }

    /** Whether this stage holds the job (its KV cache). */
    boolean holds(long jobId) {
        return next.containsKey(jobId);
    }

    void free(long jobId) {
        next.remove(jobId);
    }

    /** Jobs held (a view). */
    Set<Long> jobs() {
        return next.keySet();
    }

    int size() {
        return next.size();
    }

    void clear() {
        next.clear();
    }
}
