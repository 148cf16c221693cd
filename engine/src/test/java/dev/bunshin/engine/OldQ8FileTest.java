package dev.bunshin.engine;

import dev.bunshin.engine.gguf.GgufFile;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The old GGUF v2 Q8_0 file holds the same weights as stories260K.gguf, quantised; its ffn_down rows (172 values)
 * do not start on block boundaries, so it is read as one flat block stream. llama.cpp refuses this file, so the
 * check is against our own F32 run of the unquantised model: the logits must be close, not equal.
 */
class OldQ8FileTest {

    @Test
    void readsTheFlatBlockStreamAndAgreesWithTheF32Model() throws Exception {
        int[] prompt = {1, 403, 407, 261, 378};
        try (GgufFile f32 = GgufFile.open(TestModels.stories260K());
             GgufFile q8 = GgufFile.open(TestModels.stories260KQ8());
             StageChain a = new StageChain(f32, 1, EngineOptions.defaults().withThreads(1));
             StageChain b = new StageChain(q8, 2, EngineOptions.defaults().withThreads(1))) {
            assertEquals(5, b.stages.get(1).config().nLayers());
            float[] la = a.forward(1, 0, prompt);
            float[] lb = b.forward(1, 0, prompt);
            double dot = 0, na = 0, nb = 0;
            for (int i = 0; i < la.length; i++) {
                dot += (double) la[i] * lb[i];
                na += (double) la[i] * la[i];
                nb += (double) lb[i] * lb[i];
            }
            double cos = dot / Math.sqrt(na * nb);
            assertTrue(cos > 0.999, "cosine of F32 and Q8_0 logits " + cos);
            List<Integer> ga = a.greedy(2, prompt, 16, 2), gb = b.greedy(2, prompt, 16, 2);
            assertEquals(ga.subList(0, 8), gb.subList(0, 8), "first greedy tokens");
        }
    }
}
