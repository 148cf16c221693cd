package dev.bunshin.e2e;

import dev.bunshin.engine.TestModels;
import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.engine.tokenizer.Tokenizer;
import dev.bunshin.worker.StageWorker;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * PostgreSQL goes away while jobs run (issue 10): every session of the database is ended and new ones refused for
 * longer than the scheduler's heartbeat timeout, then it comes back. No worker stops; each notices the outage
 * (readiness DOWN) and waits it out — the tail retrying its transaction with the same tokens — and when the database
 * is back the workers, marked lost meanwhile, are live again and every job completes with exactly the tokens of an
 * undisturbed greedy run, no position missing or duplicated.
 */
class DatabaseOutageTest {

    private static final String[] PROMPTS = {"Once upon a time", "The little dog", "Tim and Sue", "One day"};
    private static final int MAX_TOKENS = 64;
    /** How long the outage lasts: {@code -Dbunshin.e2e.outage-seconds} (e.g. 65 to check a minute-long one by hand). */
    private static final Duration OUTAGE = Duration.ofSeconds(Integer.getInteger("bunshin.e2e.outage-seconds", 8));

    @Test
    void workersRideOutADatabaseOutageAndJobsCompleteWithTheSameTokens() throws Exception {
        Path model = TestModels.stories260K();
        Infra infra = Infra.get();
        try (GgufFile file = GgufFile.open(model); OwnDatabase pg = OwnDatabase.create(infra, "outage");
             Services s = new Services(pg.db, infra.kafka.bootstrapServers(), "stories260K-pgout-" + System.nanoTime() % 100000, model, 2)) {
            Tokenizer tokenizer = Tokenizer.fromGguf(file);
            Jobs jobs = new Jobs(pg.db);
            s.startWorker("w0");
            s.startWorker("w1");
            s.startScheduler();
            s.awaitPlan(2, 1, Duration.ofSeconds(60));

            GreedyJobs g = GreedyJobs.submit(jobs, tokenizer, s.modelId, PROMPTS, MAX_TOKENS);
            jobs.awaitTokens(g.ids.getFirst(), 3, Duration.ofSeconds(60));

            g.assertSomeStillRunning("the outage");
            pg.takeAway();
            Set<String> noticed = new HashSet<>();
            long end = System.nanoTime() + OUTAGE.toNanos();
            while (System.nanoTime() < end) {
                for (StageWorker w : s.workers) if (w.databaseOutage() != null) noticed.add(w.id());
                s.assertNoWorkerFailed();
                Thread.sleep(100);
            }
            pg.giveBack();
            assertEquals(2, noticed.size(), "every worker noticed the outage (readiness DOWN): " + noticed);

            g.assertCompleteAndExact(file, tokenizer, Duration.ofSeconds(180));
            s.assertNoWorkerFailed();
            for (StageWorker w : s.workers) {
                assertTrue(w.databaseOutage() == null, "worker " + w.id() + " still sees an outage: " + w.databaseOutage());
            }
        }
    }
}
