package dev.bunshin.e2e;

import dev.bunshin.db.SqlArrays;
import dev.bunshin.engine.EmbeddingLlamaCppTest;
import dev.bunshin.engine.EmbeddingPool;
import dev.bunshin.engine.EngineOptions;
import dev.bunshin.engine.Pooling;
import dev.bunshin.engine.StageChain;
import dev.bunshin.engine.StageInput;
import dev.bunshin.engine.StageOutput;
import dev.bunshin.engine.TestModels;
import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.engine.tokenizer.Tokenizer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Embedding jobs through the real pipeline (two stages, stories260K, on either backend): prefilled in chunks of 16
 * positions like any job, batched with generation jobs in flight, pooled at the tail, compared with the vector the
 * in-process engine pools from the same chunks.
 */
class EmbeddingPipelineTest {

    private static final String[] PROMPTS = {
            "Once upon a time",
            "One day, a girl named Sue found a shiny red ball in the garden. She wanted to show it to her mom, so",
            "The sun was hot and the sky was blue. A small bird sat on a branch and sang a happy song. Then",
            "Tim",
    };
    /** 44 B header + 1 KiB headroom + 16 positions of 64 floats: prefills of more than 16 positions are chunked. */
    private static final int SMALL_RECORDS = 44 + 1024 + 16 * 64 * 4;
    private static final int CHUNK = 16;

    /**
     * On the java backend the stored vector equals the in-process engine's bit for bit, and the generation jobs give
     * its greedy text. On two llama.cpp stages the tail asks its stage for the output norm of the embedding jobs'
     * chunks only ({@code StageInput.pool}); llama.cpp keeps K and V in F16, so the vector agrees with the engine's
     * within EmbeddingLlamaCppOracleTest's tolerances (cosine ≥ 0.9999, max |difference| ≤ 5e-3), and its generation
     * jobs complete.
     */
    @ParameterizedTest
    @ValueSource(strings = {"java", "llama.cpp"})
    void embeddingsThroughTwoStagesMatchTheInProcessEngineWithGenerationInFlight(String backend) throws Exception {
        Path model = TestModels.stories260K();
        Infra infra = Infra.get();
        Jobs jobs = new Jobs(infra.db);
        String id = "stories260K-embed-" + backend.replace(".", "") + "-" + System.nanoTime() % 100000;
        boolean java = backend.equals("java");
        try (GgufFile file = GgufFile.open(model); Pipeline p = new Pipeline(infra, id, model, List.of(backend, backend),
                SMALL_RECORDS, 0, 32, Duration.ofMillis(50))) {
            Tokenizer tok = Tokenizer.fromGguf(file);
            p.awaitPlan(2, Duration.ofSeconds(120));
            List<Long> generating = new ArrayList<>();
            List<Long> embedding = new ArrayList<>();
            List<int[]> prompts = new ArrayList<>();
            for (String s : PROMPTS) prompts.add(tok.encode(s, true, false));
            // Generation jobs first, so the embedding jobs' chunks share engine calls with their decode steps.
            for (int i = 0; i < PROMPTS.length; i++) generating.add(jobs.insert(id, PROMPTS[i], prompts.get(i), 40));
            for (int i = 0; i < PROMPTS.length; i++) embedding.add(insertEmbedding(infra, id, PROMPTS[i], prompts.get(i)));
            List<Long> all = new ArrayList<>(generating);
            all.addAll(embedding);
            jobs.awaitDone(all, Duration.ofSeconds(120));
            try (StageChain chain = new StageChain(file, 1, EngineOptions.defaults().withThreads(1))) {
                for (int i = 0; i < PROMPTS.length; i++) {
                    Jobs.Row row = jobs.row(embedding.get(i));
                    assertEquals("completed", row.status(), row.toString());
                    assertEquals("stop", row.finishReason(), row.toString());
                    assertEquals(0, row.tokenCount(), row.toString());
                    assertEquals(List.of(), jobs.tokens(row.id()));
                    float[] stored = embeddingOf(infra, row.id());
                    assertNotNull(stored, "job " + row.id() + " has no embedding");
                    float[] engine = pooled(chain, i, prompts.get(i));
                    if (java) {
                        assertArrayEquals(engine, stored, "embedding of " + PROMPTS[i]);
                    } else {
                        EmbeddingLlamaCppTest.Agreement a = EmbeddingLlamaCppTest.Agreement.of(engine, stored);
                        assertTrue(a.cosine() >= 0.9999 && a.maxDiff() <= 5e-3, "embedding of " + PROMPTS[i] + ": " + a);
                    }

                    Jobs.Row gen = jobs.row(generating.get(i));
                    assertEquals("completed", gen.status(), gen.toString());
                    if (java) {
                        assertEquals(Reference.greedy(file, tok, prompts.get(i), 40).text(), gen.text(), "job " + gen.id());
                    } else {
                        assertTrue(gen.tokenCount() > 0, gen.toString());
                    }
                }
            }
        }
    }

    /** The engine's pooled vector for the prompt prefilled in chunks of {@link #CHUNK}, as the scheduler cuts it. */
    private static float[] pooled(StageChain chain, long seq, int[] tokens) {
        EmbeddingPool pool = new EmbeddingPool(Pooling.MEAN, 64);
        for (int pos = 0; pos < tokens.length; pos += CHUNK) {
            int[] part = Arrays.copyOfRange(tokens, pos, Math.min(tokens.length, pos + CHUNK));
            StageOutput o = chain.forward(List.of(StageInput.ofTokens(seq, pos, part))).getFirst();
            pool.add(pos, part.length, o.pooled());
        }
        chain.free(seq);
        return pool.pooled();
    }

    static long insertEmbedding(Infra infra, String model, String prompt, int[] tokens) throws Exception {
        try (Connection c = infra.db.getConnection(); PreparedStatement ps = c.prepareStatement(
                "INSERT INTO jobs (model, kind, prompt, prompt_tokens, max_tokens) VALUES (?, 'embedding', ?, ?, 1) "
                        + "RETURNING id")) {
            ps.setString(1, model);
            ps.setString(2, prompt);
            ps.setArray(3, c.createArrayOf("integer", Arrays.stream(tokens).boxed().toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    static float[] embeddingOf(Infra infra, long job) throws Exception {
        try (Connection c = infra.db.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT embedding FROM jobs WHERE id = ?")) {
            ps.setLong(1, job);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                java.sql.Array a = rs.getArray(1);
                return a == null ? null : SqlArrays.floats(a);
            }
        }
    }
}
