package dev.bunshin.engine;

import dev.bunshin.engine.gguf.GgufFile;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The stage contract on the real stories260K model (5 layers). */
class StageRunnerTest {

    static final int[] PROMPT = {1, 403, 407, 261, 378, 322, 263, 1045 % 512, 280, 26};

    /** Logits of every step of a short greedy run (prefill, then 12 decode steps). */
    static List<float[]> run(StageChain chain, long seq) {
        List<float[]> all = new ArrayList<>();
        float[] logits = chain.forward(seq, 0, PROMPT);
        all.add(logits);
        int pos = PROMPT.length;
        for (int i = 0; i < 12; i++) {
            logits = chain.forward(seq, pos++, new int[]{StageChain.argmax(logits)});
            all.add(logits);
        }
        return all;
    }

    @Test
    void anySplitGivesBitIdenticalLogits() throws Exception {
        try (GgufFile f = GgufFile.open(TestModels.stories260K())) {
            List<float[]> reference;
            try (StageChain one = new StageChain(f, 1, EngineOptions.defaults().withThreads(1))) {
                reference = run(one, 7);
            }
            for (int k : new int[]{2, 3, 4, 5}) {
                try (StageChain chain = new StageChain(f, k, EngineOptions.defaults().withThreads(2))) {
                    List<float[]> got = run(chain, 7);
                    for (int step = 0; step < reference.size(); step++) {
                        assertArrayEquals(reference.get(step), got.get(step), k + " stages, step " + step);
                    }
                }
            }
        }
    }

    @Test
    void batchingSequencesTogetherGivesTheSameLogitsAsAlone() throws Exception {
        try (GgufFile f = GgufFile.open(TestModels.stories260K());
             StageChain chain = new StageChain(f, 2, EngineOptions.defaults().withThreads(3))) {
            int[][] prompts = {{1, 403, 407, 261, 378}, {1, 26, 280}, {1, 300, 301, 302, 303, 304, 305, 306, 307}};
            float[][] alone = new float[prompts.length][];
            for (int s = 0; s < prompts.length; s++) {
                alone[s] = chain.forward(100 + s, 0, prompts[s]);
                float[] next = chain.forward(100 + s, prompts[s].length, new int[]{42});
                alone[s] = next;
                chain.free(100 + s);
            }
            // Same work, mixed: a prefill and a decode step of different sequences in one call.
            chain.forward(List.of(StageInput.ofTokens(0, 0, prompts[0]), StageInput.ofTokens(1, 0, prompts[1])));
            List<StageOutput> mixed = chain.forward(List.of(
                    StageInput.ofTokens(1, prompts[1].length, new int[]{42}),
                    StageInput.ofTokens(2, 0, prompts[2]),
                    StageInput.ofTokens(0, prompts[0].length, new int[]{42})));
            List<StageOutput> last = chain.forward(List.of(StageInput.ofTokens(2, prompts[2].length, new int[]{42})));
            assertArrayEquals(alone[0], mixed.get(2).logits());
            assertArrayEquals(alone[1], mixed.get(0).logits());
            assertArrayEquals(alone[2], last.get(0).logits());
            assertEquals(1, mixed.get(0).nTokens());
            assertEquals(prompts[2].length, mixed.get(1).nTokens());
        }
    }

    @Test
    void redeliveredPositionsOverwriteAndGiveTheSameLogits() throws Exception {
        try (GgufFile f = GgufFile.open(TestModels.stories260K());
             StageChain chain = new StageChain(f, 1, EngineOptions.defaults().withThreads(1))) {
            float[] first = chain.forward(5, 0, PROMPT);
            float[] step = chain.forward(5, PROMPT.length, new int[]{42});
            // A redelivered decode step, then the whole prompt again: same results, cache truncated.
            assertArrayEquals(step, chain.forward(5, PROMPT.length, new int[]{42}));
            assertArrayEquals(first, chain.forward(5, 0, PROMPT));
            assertEquals(PROMPT.length, chain.stages.get(0).cachedLength(5));
        }
    }

    @Test
    void positionsThatDoNotContinueTheSequenceAreRefusedNamingIt() throws Exception {
        try (GgufFile f = GgufFile.open(TestModels.stories260K());
             StageRunner r = StageRunner.load(f, new LayerRange(0, 5), EngineOptions.defaults().withThreads(1).withContextLength(32))) {
            IllegalArgumentException gap = assertThrows(IllegalArgumentException.class,
                    () -> r.forward(List.of(StageInput.ofTokens(77, 3, new int[]{1}))));
            assertTrue(gap.getMessage().contains("77") && gap.getMessage().contains("pos 3"), gap.getMessage());
            r.forward(List.of(StageInput.ofTokens(77, 0, new int[30])));
            IllegalArgumentException ctx = assertThrows(IllegalArgumentException.class,
                    () -> r.forward(List.of(StageInput.ofTokens(77, 30, new int[]{1, 2, 3}))));
            assertTrue(ctx.getMessage().contains("77") && ctx.getMessage().contains("context"), ctx.getMessage());
            IllegalArgumentException neg = assertThrows(IllegalArgumentException.class,
                    () -> r.forward(List.of(StageInput.ofTokens(78, -1, new int[]{1}))));
            assertTrue(neg.getMessage().contains("78"), neg.getMessage());
            IllegalArgumentException kind = assertThrows(IllegalArgumentException.class,
                    () -> r.forward(List.of(StageInput.ofActivations(79, 0, new float[64]))));
            assertTrue(kind.getMessage().contains("79"), kind.getMessage());
            IllegalArgumentException vocab = assertThrows(IllegalArgumentException.class,
                    () -> r.forward(List.of(StageInput.ofTokens(80, 0, new int[]{512}))));
            assertTrue(vocab.getMessage().contains("512"), vocab.getMessage());
            assertEquals(1, r.sequenceCount(), "refused inputs create no cache");
        }
    }

    @Test
    void middleAndLastStagesTakeActivationsAndOnlyTheLastGivesLogits() throws Exception {
        try (GgufFile f = GgufFile.open(TestModels.stories260K());
             StageRunner first = StageRunner.load(f, new LayerRange(0, 2), EngineOptions.defaults().withThreads(1));
             StageRunner last = StageRunner.load(f, new LayerRange(2, 5), EngineOptions.defaults().withThreads(1))) {
            StageOutput a = first.forward(List.of(StageInput.ofTokens(1, 0, PROMPT))).get(0);
            assertNull(a.logits());
            assertEquals(PROMPT.length * 64, a.activations().length);
            assertThrows(IllegalArgumentException.class,
                    () -> last.forward(List.of(StageInput.ofTokens(1, 0, PROMPT))));
            StageOutput b = last.forward(List.of(StageInput.ofActivations(1, 0, a.activations()))).get(0);
            assertNull(b.activations());
            assertNotNull(b.logits());
            assertEquals(512, b.logits().length);
        }
    }

    @Test
    void freeDropsTheCache() throws Exception {
        try (GgufFile f = GgufFile.open(TestModels.stories260K());
             StageRunner r = StageRunner.load(f, new LayerRange(0, 5), EngineOptions.defaults().withThreads(1).withMaxSequences(2))) {
            r.forward(List.of(StageInput.ofTokens(1, 0, PROMPT), StageInput.ofTokens(2, 0, PROMPT)));
            assertEquals(2, r.sequenceCount());
            assertTrue(r.kvBytes() > 0);
            IllegalArgumentException full = assertThrows(IllegalArgumentException.class,
                    () -> r.forward(List.of(StageInput.ofTokens(3, 0, PROMPT))));
            assertTrue(full.getMessage().contains("maxSequences"), full.getMessage());
            r.free(1);
            r.free(12345); // unknown: no-op
            assertEquals(1, r.sequenceCount());
            assertEquals(0, r.cachedLength(1));
            // A freed sequence starts again at position 0.
            assertThrows(IllegalArgumentException.class, () -> r.forward(List.of(StageInput.ofTokens(1, 3, new int[]{5}))));
            r.forward(List.of(StageInput.ofTokens(1, 0, PROMPT)));
        }
    }

    @Test
    void threadCountDoesNotChangeLogits() throws Exception {
        try (GgufFile f = GgufFile.open(TestModels.stories260K())) {
            List<float[]> one, three;
            try (StageChain c = new StageChain(f, 1, EngineOptions.defaults().withThreads(1))) {
                one = run(c, 1);
            }
            try (StageChain c = new StageChain(f, 1, EngineOptions.defaults().withThreads(3))) {
                three = run(c, 1);
            }
            for (int i = 0; i < one.size(); i++) assertArrayEquals(one.get(i), three.get(i), "step " + i);
        }
    }
}
