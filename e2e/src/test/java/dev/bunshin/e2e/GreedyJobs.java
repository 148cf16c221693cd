package dev.bunshin.e2e;

import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.engine.tokenizer.Tokenizer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Greedy jobs submitted from prompts, checked against the in-process engine once done: same tokens, every position once. */
final class GreedyJobs {

    final List<Long> ids = new ArrayList<>();
    private final List<int[]> prompts = new ArrayList<>();
    private final Jobs jobs;
    private final int maxTokens;

    private GreedyJobs(Jobs jobs, int maxTokens) {
        this.jobs = jobs;
        this.maxTokens = maxTokens;
    }

    static GreedyJobs submit(Jobs jobs, Tokenizer tokenizer, String modelId, String[] prompts, int maxTokens)
            throws Exception {
        GreedyJobs g = new GreedyJobs(jobs, maxTokens);
        for (String p : prompts) {
            int[] tokens = tokenizer.encode(p, true, false);
            g.prompts.add(tokens);
            g.ids.add(jobs.insert(modelId, p, tokens, maxTokens));
        }
        return g;
    }

    /** Fails unless some job is still queued or running: a disruption must come while they run. */
    void assertSomeStillRunning(String before) throws Exception {
        for (long id : ids) {
            String status = jobs.row(id).status();
            if (status.equals("queued") || status.equals("running")) return;
        }
        throw new AssertionError("every job ended before " + before + ": nothing was disrupted");
    }

    /** Waits for every job, then checks each completed with exactly the reference's tokens and text. */
    void assertCompleteAndExact(GgufFile file, Tokenizer tokenizer, Duration timeout) throws Exception {
        List<Jobs.Row> rows = jobs.awaitDone(ids, timeout);
        for (int i = 0; i < rows.size(); i++) {
            Jobs.Row row = rows.get(i);
            Reference.Output want = Reference.greedy(file, tokenizer, prompts.get(i), maxTokens);
            assertEquals("completed", row.status(), row.toString());
            List<Jobs.Token> toks = jobs.tokens(row.id());
            assertEquals(want.tokens(), toks.stream().map(Jobs.Token::tokenId).toList(), "job " + row.id());
            for (int k = 0; k < toks.size(); k++) assertEquals(k, toks.get(k).position(), "job " + row.id());
            assertEquals(want.text(), row.text(), "job " + row.id());
        }
    }
}
