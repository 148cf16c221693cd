package dev.bunshin.submitter.batches;

import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

/**
 * Finalizes batches whose jobs have all ended, so a batch completes (and its output file exists) even when no
 * client is polling it. Reading a batch finalizes it too; the row lock makes the two safe together.
 */
@ApplicationScoped
public class BatchSweeper {

    private static final Logger LOG = Logger.getLogger(BatchSweeper.class);

    private final BatchService batches;

    BatchSweeper(BatchService batches) {
        this.batches = batches;
    }

    @Scheduled(every = "${bunshin.api.batch-sweep:2s}", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void sweep() {
        for (String id : batches.openIds()) {
            try {
                if (batches.counts(id).unfinished() == 0) {
                    batches.finalizeIfDone(id);
                }
            } catch (RuntimeException e) {
                LOG.warnf(e, "finalizing batch %s", id);
            }
        }
    }
}
