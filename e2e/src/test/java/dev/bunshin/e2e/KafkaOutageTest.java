package dev.bunshin.e2e;

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
 * The broker freezes while jobs run (issue 10): its process is stopped (SIGSTOP) for longer than the workers'
 * producer delivery timeout (3 s here, 10 minutes by default), then continued. Sends time out and are sent again
 * (stages drop duplicates by position); no worker stops, and every job completes with exactly the tokens of an
 * undisturbed greedy run.
 */
class KafkaOutageTest {

    private static final String[] PROMPTS = {"Once upon a time", "The little dog", "Tim and Sue"};
    private static final int MAX_TOKENS = 40;
    private static final Duration OUTAGE = Duration.ofSeconds(10);

    @Test
    void workersRideOutAFrozenBrokerAndJobsCompleteWithTheSameTokens() throws Exception {
        Path model = TestModels.stories260K();
        Infra infra = Infra.get();
        Jobs jobs = new Jobs(infra.db);
        try (GgufFile file = GgufFile.open(model);
             Services s = new Services(infra.db, infra.kafka.bootstrapServers(), "stories260K-kafkaout-" + System.nanoTime() % 100000, model, 2)) {
            s.deliveryTimeout = Duration.ofSeconds(3);
            Tokenizer tokenizer = Tokenizer.fromGguf(file);
            s.startWorker("w0");
            s.startWorker("w1");
            s.startScheduler();
            s.awaitPlan(2, 1, Duration.ofSeconds(60));

            List<Long> ids = new ArrayList<>();
            List<int[]> prompts = new ArrayList<>();
            for (String p : PROMPTS) {
                int[] tokens = tokenizer.encode(p, true, false);
                prompts.add(tokens);
                ids.add(jobs.insert(s.modelId, p, tokens, MAX_TOKENS));
            }
            jobs.awaitTokens(ids.getFirst(), 3, Duration.ofSeconds(60));

            signal("STOP", infra.kafka.pid());
            try {
                long end = System.nanoTime() + OUTAGE.toNanos();
                while (System.nanoTime() < end) {
                    s.assertNoWorkerFailed();
                    Thread.sleep(100);
                }
            } finally {
                signal("CONT", infra.kafka.pid());
            }

            List<Jobs.Row> rows = jobs.awaitDone(ids, Duration.ofSeconds(120));
            s.assertNoWorkerFailed();
            for (int i = 0; i < rows.size(); i++) {
                Jobs.Row row = rows.get(i);
                Reference.Output want = Reference.greedy(file, tokenizer, prompts.get(i), MAX_TOKENS);
                assertEquals("completed", row.status(), row.toString());
                List<Jobs.Token> toks = jobs.tokens(row.id());
                assertEquals(want.tokens(), toks.stream().map(Jobs.Token::tokenId).toList(), "job " + row.id());
                for (int k = 0; k < toks.size(); k++) assertEquals(k, toks.get(k).position(), "job " + row.id());
                assertEquals(want.text(), row.text(), "job " + row.id());
            }
        }
    }

    private static void signal(String signal, long pid) throws Exception {
        Process p = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).inheritIO().start();
        assertEquals(0, p.waitFor(), "kill -" + signal + " " + pid);
    }
}
