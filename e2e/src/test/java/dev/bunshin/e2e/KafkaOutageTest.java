package dev.bunshin.e2e;

import dev.bunshin.engine.TestModels;
import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.engine.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The broker freezes while jobs run (issue 10): its process is stopped (SIGSTOP) for longer than the workers'
 * producer delivery timeout (3 s here, 10 minutes by default), then continued. Sends time out and are sent again
 * (stages drop duplicates by position); no worker stops, and every job completes with exactly the tokens of an
 * undisturbed greedy run.
 */
class KafkaOutageTest {

    private static final String[] PROMPTS = {"Once upon a time", "The little dog", "Tim and Sue"};
    private static final int MAX_TOKENS = 64;
    /** How long the outage lasts: {@code -Dbunshin.e2e.outage-seconds} (e.g. 65 to check a minute-long one by hand). */
    private static final Duration OUTAGE = Duration.ofSeconds(Integer.getInteger("bunshin.e2e.outage-seconds", 10));

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

            GreedyJobs g = GreedyJobs.submit(jobs, tokenizer, s.modelId, PROMPTS, MAX_TOKENS);
            jobs.awaitTokens(g.ids.getFirst(), 3, Duration.ofSeconds(60));

            g.assertSomeStillRunning("the outage");
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

            g.assertCompleteAndExact(file, tokenizer, Duration.ofSeconds(180));
            s.assertNoWorkerFailed();
        }
    }

    private static void signal(String signal, long pid) throws Exception {
        Process p = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).inheritIO().start();
        assertEquals(0, p.waitFor(), "kill -" + signal + " " + pid);
    }
}
