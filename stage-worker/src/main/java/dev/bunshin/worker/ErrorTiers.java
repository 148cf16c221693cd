package dev.bunshin.worker;

import dev.bunshin.protocol.ProtocolException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.RetriableException;

import java.util.concurrent.ExecutionException;

/**
 * Whose fault an error is, in the tiers of Kafka's own examples. A job's fault (a record that cannot be decoded,
 * that the engine refuses, or that is too large for the next topic) fails that job alone: its row says why and
 * every stage frees it. A send that timed out (the broker away) is sent again. Anything else (Kafka fatal errors, the database down, an engine bug) is the worker's: it
 * stops loudly, offsets uncommitted, marks itself stopped, and the scheduler re-plans without it.
 */
final class ErrorTiers {

    private ErrorTiers() {}

    /**
     * Whether a failed send may succeed if sent again: the broker was unreachable past the producer's delivery
     * timeout, or answered with an error Kafka calls retriable (not leader, not enough replicas …).
     */
    static boolean isTransient(Throwable t) {
        Throwable c = t instanceof ExecutionException && t.getCause() != null ? t.getCause() : t;
        return c instanceof RetriableException;
    }

    /** Whether {@code t} (or the cause of a failed send) is the fault of one job's data. */
    static boolean isJobsFault(Throwable t) {
        Throwable c = t instanceof ExecutionException && t.getCause() != null ? t.getCause() : t;
        return c instanceof ProtocolException || c instanceof IllegalArgumentException
                || c instanceof RecordTooLargeException;
    }
}
