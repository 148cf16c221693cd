package dev.bunshin.submitter.batches;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

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
    /** Each open batch's counts at the last sweep: progress is announced when they move. */
    private final Map<String, BatchService.Counts> last = new HashMap<>();

    BatchSweeper(BatchService batches) {
        this.batches = batches;
    }

    @Scheduled(every = "${bunshin.api.batch-sweep:2s}", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void sweep() {
        List<String> open = batches.openIds();
        last.keySet().retainAll(open);
        for (String id : open) {
            try {
                BatchService.Counts c = batches.counts(id);
                if (c.unfinished() == 0) {
                    batches.finalizeIfDone(id);
                } else if (!c.equals(last.put(id, c))) {
                    batches.announceProgress(id, c);
                }
            } catch (RuntimeException e) {
                LOG.warnf(e, "finalizing batch %s", id);
            }
        }
    }
}
