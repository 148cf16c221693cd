package dev.bunshin.submitter.cluster;

import dev.bunshin.submitter.model.ServedModels;
import io.quarkus.scheduler.Scheduled;
import jakarta.inject.Singleton;
import org.jboss.logging.Logger;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.SQLException;

/**
 * Samples the served model's generated-token count once a second into a ten-minute {@link Throughput} ring: the
 * dashboard's throughput chart and {@code ./bunshin status}'s rate. A read that fails (database away) leaves a gap.
 */
@Singleton
public class ThroughputSampler {

    private static final Logger LOG = Logger.getLogger(ThroughputSampler.class);

    /** Ten minutes of one-second samples, and the one before the first interval. */
    static final int SAMPLES = 601;

    private final DataSource db;
    private final TokenCounter counter;
    private final Throughput throughput = new Throughput(SAMPLES);

    ThroughputSampler(DataSource db, ServedModels models) {
        this.db = db;
        this.counter = new TokenCounter(models.all().getFirst().id());
    }

    @Scheduled(every = "1s", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void sample() {
        try (Connection c = db.getConnection()) {
            long total = counter.read(c);
            throughput.record(System.currentTimeMillis(), total);
        } catch (SQLException e) {
            LOG.debugf("throughput sample skipped: %s", e.getMessage());
        }
    }

    Throughput throughput() {
        return throughput;
    }
}
