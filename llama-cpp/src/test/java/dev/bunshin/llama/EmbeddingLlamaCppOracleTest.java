package dev.bunshin.llama;

import dev.bunshin.engine.EmbeddingLlamaCppTest;
import dev.bunshin.engine.EmbeddingPool;
import dev.bunshin.engine.EngineOptions;
import dev.bunshin.engine.Pooling;
import dev.bunshin.engine.StageChain;
import dev.bunshin.engine.TestModels;
import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.engine.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bunshin's mean-pooled embedding against llama.cpp's own (release v0.5.0 through FFM: a context with
 * {@code embeddings} on and {@code pooling_type} MEAN, read with {@code llama_get_embeddings_seq}), on stories260K
 * and {@link EmbeddingLlamaCppTest#PROMPTS} (3 to 35 tokens with BOS), both unnormalised as each pools them.
 * Bunshin's vector is the one its stages give an embedding job: the prompt prefilled in chunks of 3 through two
 * stages, the chunks' partial sums pooled ({@link EmbeddingLlamaCppTest#embed}). Tolerance: cosine ≥ 0.9999; max
 * |difference| ≤ 5e-3 per component of the raw vectors (norms 8 to 14) and ≤ 1e-3 of the L2-normalised ones the
 * API answers. llama.cpp keeps K and V in F16 (its default, as llama-server runs), which alone moves the raw
 * components by ~1e-3 (observed: cosine ≥ 0.9999997, max |difference| ≤ 3.8e-3 raw, ≤ 3.3e-4 normalised).
 */
class EmbeddingLlamaCppOracleTest {

    @Test
    void meanPooledVectorEqualsLlamaCppsOnStories260K() throws Exception {
        Path model = TestModels.stories260K();
        try (GgufFile f = GgufFile.open(model);
             StageChain split = new StageChain(f, 2, EngineOptions.defaults().withThreads(2));
             NativeModel llama = NativeModel.load(model, new NativeModel.Settings(1, 512, 1, 512, -1, 0,
                     NativeModel.POOLING_MEAN))) {
            assertEquals(Pooling.MEAN, Pooling.of(f), "stories260K has no pooling_type: mean, as llama.cpp's default");
            Tokenizer tok = Tokenizer.fromGguf(f);
            for (int i = 0; i < EmbeddingLlamaCppTest.PROMPTS.length; i++) {
                int[] tokens = tok.encode(EmbeddingLlamaCppTest.PROMPTS[i], true, false);
                float[] ours = EmbeddingLlamaCppTest.embed(split, 300 + i, tokens, 3);
                int n = tokens.length;
                float[] theirs = llamaCppsOwn(llama, tokens);
                assertEquals(theirs.length, ours.length, "n_embd");
                EmbeddingLlamaCppTest.Agreement raw = EmbeddingLlamaCppTest.Agreement.of(ours, theirs);
                double cos = raw.cosine(), maxDiff = raw.maxDiff();
                double unitDiff = EmbeddingLlamaCppTest.Agreement.of(EmbeddingPool.normalized(ours),
                        EmbeddingPool.normalized(theirs)).maxDiff();
                System.err.printf("mean-pooled vs llama.cpp %s, %d tokens %s: cosine %.8f, max |diff| %.2e (normalised "
                        + "%.2e)%n", LlamaLibrary.get().release(), n, EmbeddingLlamaCppTest.PROMPTS[i], cos, maxDiff, unitDiff);
                assertTrue(cos >= 0.9999, "cosine " + cos + " for " + EmbeddingLlamaCppTest.PROMPTS[i]);
                assertTrue(maxDiff <= 5e-3, "max |diff| " + maxDiff + " for " + EmbeddingLlamaCppTest.PROMPTS[i]);
                assertTrue(unitDiff <= 1e-3, "max |diff| normalised " + unitDiff + " for " + EmbeddingLlamaCppTest.PROMPTS[i]);
            }
        }
    }

    /** llama.cpp's own pooled embedding of the prompt (a context with {@code embeddings} on), in one decode. */
    static float[] llamaCppsOwn(NativeModel llama, int[] tokens) {
        int n = tokens.length;
        int[] pos = new int[n];
        for (int k = 0; k < n; k++) pos[k] = k;
        boolean[] output = new boolean[n];
        Arrays.fill(output, true);
        llama.seqRm(0, 0);
        llama.decode(tokens, null, pos, new int[n], output, n);
        return llama.embeddingsSeq(0);
    }
}
