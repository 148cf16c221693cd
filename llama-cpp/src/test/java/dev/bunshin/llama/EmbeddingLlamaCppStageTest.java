package dev.bunshin.llama;

import dev.bunshin.engine.EmbeddingLlamaCppTest;
import dev.bunshin.engine.EmbeddingPool;
import dev.bunshin.engine.EngineOptions;
import dev.bunshin.engine.LayerRange;
import dev.bunshin.engine.Pooling;
import dev.bunshin.engine.StageBackend;
import dev.bunshin.engine.StageInput;
import dev.bunshin.engine.StageOutput;
import dev.bunshin.engine.TestModels;
import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.engine.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An embedding job on llama.cpp stages: the last stage captures the output norm ({@code result_norm}) of the inputs
 * that ask ({@link StageInput#pool}) and pools it. On stories260K, the whole model in one stage and split in two,
 * each prompt of {@link EmbeddingLlamaCppTest#PROMPTS} prefilled in chunks of 3 beside another sequence's chunk that
 * does not ask, the pooled parts summed as the tail does: the vector equals llama.cpp's own embedding (a context with
 * {@code embeddings} on, pooling MEAN, {@code llama_get_embeddings_seq}) up to the order of the sums: max |difference|
 * ≤ 1e-5 per component (observed ≤ 1e-6, norms 8 to 14). The input that does not ask gets its logits and no pooled
 * part.
 */
class EmbeddingLlamaCppStageTest {

    private static final EngineOptions OPTIONS = new EngineOptions(1, 128, 4);

    @TempDir
    Path dir;

    @Test
    void llamaCppStagesPoolWhatLlamaCppEmbeds() throws Exception {
        Path model = TestModels.stories260K();
        try (GgufFile f = GgufFile.open(model);
             NativeModel llama = NativeModel.load(model, new NativeModel.Settings(1, 512, 1, 512, -1, 0,
                     NativeModel.POOLING_MEAN))) {
            Tokenizer tok = Tokenizer.fromGguf(f);
            int nLayers = ModelShape.of(f).nLayers();
            for (int k = 1; k <= 2; k++) {
                List<StageBackend> stages = new ArrayList<>();
                try {
                    for (LayerRange r : LayerRange.split(nLayers, k)) {
                        stages.add(LlamaCppStage.load(f, r, OPTIONS, new LlamaCppStage.Settings(dir.resolve("shards"), 0, 512)));
                    }
                    assertTrue(stages.getLast().poolsOnRequest(), "llama.cpp pools only the inputs that ask");
                    for (int i = 0; i < EmbeddingLlamaCppTest.PROMPTS.length; i++) {
                        int[] tokens = tok.encode(EmbeddingLlamaCppTest.PROMPTS[i], true, false);
                        float[] ours = embed(stages, 10 + i, tokens, 3);
                        float[] theirs = EmbeddingLlamaCppOracleTest.llamaCppsOwn(llama, tokens);
                        EmbeddingLlamaCppTest.Agreement raw = EmbeddingLlamaCppTest.Agreement.of(ours, theirs);
                        double unitDiff = EmbeddingLlamaCppTest.Agreement.of(EmbeddingPool.normalized(ours),
                                EmbeddingPool.normalized(theirs)).maxDiff();
                        System.err.printf("%d llama.cpp stage(s) vs llama.cpp's embedding, %d tokens: cosine %.8f, max "
                                + "|diff| %.2e (normalised %.2e)%n", k, tokens.length, raw.cosine(), raw.maxDiff(), unitDiff);
                        String what = k + " stage(s), " + EmbeddingLlamaCppTest.PROMPTS[i];
                        assertTrue(raw.maxDiff() <= 1e-5, "max |diff| " + raw.maxDiff() + ", " + what);
                        assertTrue(unitDiff <= 1e-6, "max |diff| normalised " + unitDiff + ", " + what);
                    }
                    for (StageBackend s : stages) assertEquals(0, s.sequenceCount(), "every sequence freed");
                } finally {
                    for (StageBackend s : stages) s.close();
                }
            }
        }
    }

    /**
     * The tail's vector: the prompt through the stages in chunks of {@code chunk}, each call beside a chunk of another
     * sequence that does not ask (checked: logits, no pooled part), the pooled parts summed.
     */
    private static float[] embed(List<StageBackend> stages, long seq, int[] tokens, int chunk) {
        EmbeddingPool pool = new EmbeddingPool(Pooling.MEAN, stages.getFirst().nEmbd());
        long other = seq + 1000;
        for (int pos = 0; pos < tokens.length; pos += chunk) {
            int[] part = Arrays.copyOfRange(tokens, pos, Math.min(tokens.length, pos + chunk));
            List<StageInput> batch = List.of(StageInput.ofTokens(seq, pos, part), StageInput.ofTokens(other, pos, part));
            List<StageOutput> out = null;
            for (int s = 0; s < stages.size(); s++) {
                if (s > 0) {
                    batch = List.of(StageInput.ofActivations(seq, pos, out.get(0).activations()),
                            StageInput.ofActivations(other, pos, out.get(1).activations()));
                }
                if (s == stages.size() - 1) batch = List.of(batch.get(0).pooled(), batch.get(1));
                out = stages.get(s).forward(batch);
            }
            assertNotNull(out.get(0).pooled(), "the asking input's pooled part at " + pos);
            assertNotNull(out.get(0).logits(), "the asking input's logits at " + pos);
            assertNull(out.get(1).pooled(), "no pooled part for an input that does not ask");
            assertNotNull(out.get(1).logits(), "the other input's logits at " + pos);
            pool.add(pos, part.length, out.get(0).pooled());
        }
        for (StageBackend s : stages) {
            s.free(seq);
            s.free(other);
        }
        return pool.pooled();
    }
}
