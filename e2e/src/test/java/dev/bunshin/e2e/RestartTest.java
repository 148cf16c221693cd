package dev.bunshin.e2e;

import dev.bunshin.db.StagePlan;
import dev.bunshin.engine.TestModels;
import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.engine.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * No job left behind by a restart (issue 10). A scheduler that restarts while its worker process runs on adopts
 * the stored plan (same epoch: the worker still holds the KV caches). A worker that restarts too — a new process
 * with the same id, no caches — is another incarnation than the plan recorded: the restarted scheduler re-plans
 * instead of adopting, every running job is re-prefilled, and all complete with exactly the tokens of an
 * undisturbed greedy run (before V17 they stayed running forever: "dropping DECODE …, expected position 0").
 */
class RestartTest {

    private static final String[] PROMPTS = {"Once upon a time", "The little dog", "Tim and Sue"};
    private static final int MAX_TOKENS = 64;

    @Test
    void jobsCompleteAfterTheSchedulerAndTheirWorkerRestart() throws Exception {
        Path model = TestModels.stories260K();
        Infra infra = Infra.get();
        Jobs jobs = new Jobs(infra.db);
        try (GgufFile file = GgufFile.open(model);
             Services s = new Services(infra.db, infra.kafka.bootstrapServers(), "stories260K-restart-" + System.nanoTime() % 100000, model, 1)) {
            Tokenizer tokenizer = Tokenizer.fromGguf(file);
            s.startWorker("w0");
            s.startScheduler();
            StagePlan first = s.awaitPlan(1, 1, Duration.ofSeconds(60));

            GreedyJobs g = GreedyJobs.submit(jobs, tokenizer, s.modelId, PROMPTS, MAX_TOKENS);
            List<Long> ids = g.ids;
            jobs.awaitTokens(ids.getFirst(), 2, Duration.ofSeconds(60));

            // The scheduler alone restarts: the same worker process is there, the stored plan is adopted.
            s.stopScheduler();
            s.startScheduler();
            // Tokens keep coming under the adopted plan (or the jobs end).
            int before = jobs.row(ids.getLast()).tokenCount();
            long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            Jobs.Row last;
            while ((last = jobs.row(ids.getLast())).status().equals("running") && last.tokenCount() < before + 2) {
                if (System.nanoTime() > end) throw new AssertionError("no token after the scheduler restart: " + last);
                Thread.sleep(20);
            }
            assertEquals(first.epoch(), s.scheduler.currentPlan().epoch(), "the plan of the same processes is adopted");

            // Now both restart, the worker as a new process with the same id (no KV caches), jobs in flight.
            g.assertSomeStillRunning("the restart");
            s.stopScheduler();
            s.stopWorker("w0");
            s.startWorker("w0");
            s.startScheduler();
            StagePlan next = s.awaitPlan(1, first.epoch() + 1, Duration.ofSeconds(60));
            assertEquals(first.epoch() + 1, next.epoch(), "a plan made for another process of w0 is not adopted");

            g.assertCompleteAndExact(file, tokenizer, Duration.ofSeconds(180));
            s.assertNoWorkerFailed();
        }
    }
}
