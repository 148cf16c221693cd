package dev.bunshin.engine;

import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.engine.sample.SamplingParams;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GeneratorTest {

    private static final EngineOptions OPTIONS = new EngineOptions(1, 256, 4);

    @Test
    void promptTokensMatchLlamaCpp() throws Exception {
        try (GgufFile f = GgufFile.open(TestModels.stories260K()); Generator g = Generator.load(f, 1, OPTIONS)) {
            // models/README.md: llama.cpp tokenizes "Once upon a time" as BOS + [403, 407, 261, 378].
            Generator.Result r = g.generate("Once upon a time", 1, SamplingParams.GREEDY, null);
            assertArrayEquals(new int[]{1, 403, 407, 261, 378}, r.promptTokens());
        }
    }

    @Test
    void anyStageSplitGivesTheSameTokens() throws Exception {
        try (GgufFile f = GgufFile.open(TestModels.stories260K())) {
            int[] reference = null;
            for (int k = 1; k <= 5; k++) {
                try (Generator g = Generator.load(f, k, OPTIONS)) {
                    assertEquals(k, g.stages().size());
                    int[] tokens = g.generate("The dog ran", 40, SamplingParams.GREEDY, null).tokens();
                    if (reference == null) reference = tokens;
                    assertArrayEquals(reference, tokens, k + " stages");
                }
            }
        }
    }

    @Test
    void streamedPiecesMakeTheText() throws Exception {
        try (GgufFile f = GgufFile.open(TestModels.stories260K()); Generator g = Generator.load(f, 2, OPTIONS)) {
            List<String> pieces = new ArrayList<>();
            Generator.Result r = g.generate("Once upon a time", 30, SamplingParams.GREEDY, pieces::add);
            assertEquals(r.text(), String.join("", pieces));
            assertEquals(g.tokenizer().decode(r.tokens()), r.text());
            assertEquals(30, r.tokens().length);
            assertFalse(r.endOfGeneration());
            assertEquals(0, g.stages().getFirst().sequenceCount(), "KV caches are freed");
        }
    }

    @Test
    void seededSamplingRepeats() throws Exception {
        SamplingParams p = new SamplingParams(1.0f, 40, 0.95f, 0.05f, 1f, 64, 0f, 0f, 1234);
        try (GgufFile f = GgufFile.open(TestModels.stories260K()); Generator g = Generator.load(f, 3, OPTIONS)) {
            int[] a = g.generate("Lily", 30, p, null).tokens();
            int[] b = g.generate("Lily", 30, p, null).tokens();
            assertArrayEquals(a, b);
        }
    }

    @Test
    void contextBoundsTheGeneration() throws Exception {
        try (GgufFile f = GgufFile.open(TestModels.stories260K());
             Generator g = Generator.load(f, 1, OPTIONS.withContextLength(8))) {
            Generator.Result r = g.generate("Once upon a time", 100, SamplingParams.GREEDY, null);
            assertEquals(4, r.tokens().length, Arrays.toString(r.tokens())); // 8 - 5 + 1
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> g.generate(new int[]{1, 2, 3, 4, 5, 6, 7, 8}, 1, SamplingParams.GREEDY, null));
            assertTrue(e.getMessage().contains("8 tokens"), e.getMessage());
        }
    }
}
