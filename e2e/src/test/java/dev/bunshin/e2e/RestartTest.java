package dev.bunshin.e2e;

import dev.bunshin.db.StagePlan;
import dev.bunshin.engine.TestModels;
import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.engine.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
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
    private static final int MAX_TOKENS = 40;

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

            List<Long> ids = new ArrayList<>();
            List<int[]> prompts = new ArrayList<>();
            for (String p : PROMPTS) {
                int[] tokens = tokenizer.encode(p, true, false);
                prompts.add(tokens);
                ids.add(jobs.insert(s.modelId, p, tokens, MAX_TOKENS));
            }
            jobs.awaitTokens(ids.getFirst(), 2, Duration.ofSeconds(60));

            // The scheduler alone restarts: the same worker process is there, the stored plan is adopted.
            s.stopScheduler();
            s.startScheduler();
            int before = jobs.row(ids.getFirst()).tokenCount();
            jobs.awaitTokens(ids.getFirst(), Math.min(MAX_TOKENS, before + 2), Duration.ofSeconds(60));
            assertEquals(first.epoch(), s.scheduler.currentPlan().epoch(), "the plan of the same processes is adopted");

            // Now both restart, the worker as a new process with the same id (no KV caches), jobs in flight.
            s.stopScheduler();
            s.stopWorker("w0");
            s.startWorker("w0");
            s.startScheduler();
            StagePlan next = s.awaitPlan(1, first.epoch() + 1, Duration.ofSeconds(60));
            assertEquals(first.epoch() + 1, next.epoch(), "a plan made for another process of w0 is not adopted");

            List<Jobs.Row> rows = jobs.awaitDone(ids, Duration.ofSeconds(120));
            s.assertNoWorkerFailed();
            for (int i = 0; i < rows.size(); i++) {
                Jobs.Row row = rows.get(i);
                Reference.Output want = Reference.greedy(file, tokenizer, prompts.get(i), MAX_TOKENS);
                assertEquals("completed", row.status(), row.toString());
                List<Jobs.Token> toks = jobs.tokens(row.id());
                assertEquals(want.tokens(), toks.stream().map(Jobs.Token::tokenId).toList(), "job " + row.id());
                assertEquals(want.text(), row.text(), "job " + row.id());
            }
        }
    }
}
