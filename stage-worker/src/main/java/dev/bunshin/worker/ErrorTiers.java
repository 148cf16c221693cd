package dev.bunshin.worker;

import dev.bunshin.protocol.ProtocolException;
import org.apache.kafka.common.errors.RecordTooLargeException;

import java.util.concurrent.ExecutionException;

/**
 * Whose fault an error is, in the tiers of Kafka's own examples. A job's fault (a record that cannot be decoded,
 * that the engine refuses, or that is too large for the next topic) fails that job alone: its row says why and
 * every stage frees it. Anything else (Kafka fatal errors, the database down, an engine bug) is the worker's: it
 * stops loudly, offsets uncommitted, marks itself stopped, and the scheduler re-plans without it.
 */
final class ErrorTiers {

    private ErrorTiers() {}

    /** Whether {@code t} (or the cause of a failed send) is the fault of one job's data. */
    static boolean isJobsFault(Throwable t) {
        Throwable c = t instanceof ExecutionException && t.getCause() != null ? t.getCause() : t;
        return c instanceof ProtocolException || c instanceof IllegalArgumentException
                || c instanceof RecordTooLargeException;
    }
}
