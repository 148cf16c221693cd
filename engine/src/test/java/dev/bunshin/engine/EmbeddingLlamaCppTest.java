package dev.bunshin.engine;

import de.kherud.llama.LlamaModel;
import de.kherud.llama.LogLevel;
import de.kherud.llama.ModelParameters;
import de.kherud.llama.args.PoolingType;
import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.engine.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Pooled embeddings on the real stories260K model.
 *
 * <p>Against llama.cpp (de.kherud:llama, b4916, {@code --embedding}): that build aborts in its mean-pooling graph
 * for Llama models ({@code GGML_ASSERT(ggml_can_mul_mat(a, b))}) and hangs with {@code last}, so the oracle is its
 * {@code --pooling none} answer, the final hidden state after the output norm ({@code t_embd}) of the first position,
 * which is what {@link Pooling#CLS} pools: cosine ≥ 0.99999 and max |difference| ≤ 2e-3 per component (values of
 * order 1; llama.cpp keeps K and V in F16, which alone moves them by ~1e-3). Mean pooling is then checked against a
 * naive reference: the mean over k of position k's normed state, each computed alone, equals bit for bit the mean
 * pooled from one chunk (both sum in position order; the engine is batch-invariant), and within 1e-6 the mean pooled
 * from chunks of 3 through two stages (a chunk's partial sum rounds once more). The mean-pooled vector itself is
 * compared with a current llama.cpp's (v0.5.0, {@code llama_get_embeddings_seq}) by llama-cpp's
 * {@code EmbeddingLlamaCppOracleTest}, which uses {@link #embed}.
 */
public class EmbeddingLlamaCppTest {

    public static final String[] PROMPTS = {
            "Once upon a time",
            "Lily and Tom went to the park",
            "A",
            "The cat and the mouse were friends. Every day they played in the garden and laughed.",
            "Sara wanted to bake a cake",
    };

    @Test
    void firstPositionStateEqualsLlamaCppOnStories260K() throws Exception {
        Path model = TestModels.stories260K();
        String tmp = System.getProperty("de.kherud.llama.tmpdir");
        if (tmp != null) Files.createDirectories(Path.of(tmp));
        LlamaModel.setLogger(null, (LogLevel level, String msg) -> { });
        float[] expected;
        ModelParameters mp = new ModelParameters().setModel(model.toString()).setThreads(1).setCtxSize(512)
                .setGpuLayers(0).enableEmbedding().setPoolingType(PoolingType.NONE);
        try (LlamaModel llama = new LlamaModel(mp)) {
            expected = llama.embed(PROMPTS[0]);
        }
        try (GgufFile f = GgufFile.open(model);
             StageChain whole = new StageChain(f, 1, EngineOptions.defaults().withThreads(2))) {
            Tokenizer tok = Tokenizer.fromGguf(f);
            int[] tokens = tok.encode(PROMPTS[0], true, false);
            StageOutput o = whole.forward(List.of(StageInput.ofTokens(1, 0, tokens))).getFirst();
            float[] normed = Pooling.CLS.partial(rows(whole, tokens, 0), 0, 1, expected.length);
            assertEquals(expected.length, normed.length, "n_embd");
            Agreement a = Agreement.of(normed, expected);
            double cos = a.cosine(), maxDiff = a.maxDiff();
            System.out.printf("t_embd of position 0 vs llama.cpp: cosine %.8f, max |diff| %.2e%n", cos, maxDiff);
            assertTrue(cos >= 0.99999, "cosine " + cos);
            assertTrue(maxDiff <= 2e-3, "max |diff| " + maxDiff);
            assertEquals(64, o.pooled().length, "a last stage pools every input");
        }
    }

    @Test
    void meanPoolingEqualsNaiveMeanOfEveryPositionsState() throws Exception {
        Path model = TestModels.stories260K();
        try (GgufFile f = GgufFile.open(model)) {
            assertEquals(Pooling.MEAN, Pooling.of(f), "stories260K has no pooling_type: mean");
            Tokenizer tok = Tokenizer.fromGguf(f);
            try (StageChain whole = new StageChain(f, 1, EngineOptions.defaults().withThreads(2));
                 StageChain split = new StageChain(f, 2, EngineOptions.defaults().withThreads(2))) {
                for (int i = 0; i < PROMPTS.length; i++) {
                    int[] tokens = tok.encode(PROMPTS[i], true, false);
                    int e = 64;
                    float[] sum = new float[e];
                    for (int k = 0; k < tokens.length; k++) {
                        float[] row = rows(whole, tokens, k);
                        for (int j = 0; j < e; j++) sum[j] += row[j];
                    }
                    float[] naive = new float[e];
                    for (int j = 0; j < e; j++) naive[j] = sum[j] * (1.0f / tokens.length);
                    assertArrayEquals(naive, embed(whole, 100 + i, tokens, tokens.length), "one chunk, " + PROMPTS[i]);
                    assertArrayEquals(naive, embed(split, 200 + i, tokens, 3), 1e-6f,
                            "chunks of 3 through two stages, " + PROMPTS[i]);
                    float[] unit = EmbeddingPool.normalized(naive);
                    double norm = 0;
                    for (float v : unit) norm += v * v;
                    assertEquals(1.0, norm, 1e-5, "L2-normalised");
                }
            }
        }
    }

    /** How close two vectors are: their cosine and the largest |difference| of a component. */
    public record Agreement(double cosine, double maxDiff) {
        public static Agreement of(float[] a, float[] b) {
            double maxDiff = 0, dot = 0, aa = 0, bb = 0;
            for (int k = 0; k < a.length; k++) {
                maxDiff = Math.max(maxDiff, Math.abs(a[k] - b[k]));
                dot += (double) a[k] * b[k];
                aa += (double) a[k] * a[k];
                bb += (double) b[k] * b[k];
            }
            return new Agreement(dot / Math.sqrt(aa * bb), maxDiff);
        }
    }

    /**
     * The normed final state of position {@code k}, naively: positions before it prefilled, then {@code k} run alone,
     * whose mean-pooling partial is the sum of one row: the row itself.
     */
    static float[] rows(StageChain chain, int[] tokens, int k) {
        long seq = 1000 + k;
        if (k > 0) chain.forward(List.of(StageInput.ofTokens(seq, 0, Arrays.copyOf(tokens, k))));
        StageOutput o = chain.forward(List.of(StageInput.ofTokens(seq, k, new int[]{tokens[k]}))).getFirst();
        chain.free(seq);
        return o.pooled();
    }

    /** The job's pooled (not normalised) embedding: the prompt prefilled in chunks of {@code chunk} tokens. */
    public static float[] embed(StageChain chain, long seq, int[] tokens, int chunk) {
        EmbeddingPool pool = null;
        for (int pos = 0; pos < tokens.length; pos += chunk) {
            int[] part = Arrays.copyOfRange(tokens, pos, Math.min(tokens.length, pos + chunk));
            StageOutput o = chain.forward(List.of(StageInput.ofTokens(seq, pos, part))).getFirst();
            if (pool == null) pool = new EmbeddingPool(Pooling.MEAN, o.pooled().length);
            pool.add(pos, part.length, o.pooled());
        }
        chain.free(seq);
        return pool.pooled();
    }
}
