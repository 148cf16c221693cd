package dev.bunshin.llama;

import dev.bunshin.engine.EngineOptions;
import dev.bunshin.engine.LayerRange;
import dev.bunshin.engine.StageBackend;
import dev.bunshin.engine.StageInput;
import dev.bunshin.engine.StageRunner;
import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.engine.Generator;
import dev.bunshin.engine.TestModels;
import dev.bunshin.models.synthetic.SyntheticModel;
import dev.bunshin.models.synthetic.SyntheticGemma3Model;
import dev.bunshin.models.synthetic.SyntheticGptOssModel;
import dev.bunshin.models.synthetic.SyntheticMoeModel;
import dev.bunshin.engine.sample.SamplingParams;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The llama.cpp shard backend against libllama running the whole model: splits into 1, 2 and 3 stages give the
 * same greedy token ids, one sequence or many per call; Java and llama.cpp stages mixed in one chain agree.
 */
class LlamaCppStageTest {
    static final EngineOptions OPTIONS = new EngineOptions(1, 128, 4); // 1 thread: llama.cpp's spinning threads crawl on a busy machine
    static final int[] PROMPT = {1, 300, 301, 302, 303, 304, 305, 306, 307, 308};
    static final int N = 24;

    @TempDir
    Path dir;

    private LlamaCppStage.Settings settings() {
        return new LlamaCppStage.Settings(dir.resolve("shards"), 0, 512);
    }

    private Chain llamaChain(GgufFile f, int k) throws IOException {
        List<StageBackend> stages = new ArrayList<>();
        for (LayerRange r : LayerRange.split(nLayers(f), k)) stages.add(LlamaCppStage.load(f, r, OPTIONS, settings()));
        return new Chain(f, stages);
    }

    private static int nLayers(GgufFile f) throws IOException {
        return ModelShape.of(f).nLayers();
    }

    private Path model(String arch, SyntheticModel.Mix mix) throws IOException {
        return SyntheticModel.write(dir.resolve(arch + "-" + mix + ".gguf"), SyntheticModel.tiny(arch, mix).withLayers(6));
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama", "qwen2", "qwen3"})
    void splitsGiveTheWholeModelsGreedyTokens(String arch) throws IOException {
        try (GgufFile f = GgufFile.open(model(arch, SyntheticModel.Mix.Q8_0))) {
            int[] whole;
            try (Chain c = llamaChain(f, 1)) {
                whole = c.greedy(1, PROMPT, N);
            }
            for (int k = 2; k <= 3; k++) {
                try (Chain c = llamaChain(f, k)) {
                    assertArrayEquals(whole, c.greedy(1, PROMPT, N), arch + " split into " + k + " stages");
                    for (StageBackend s : c.stages) assertEquals(0, s.sequenceCount(), "freed");
                }
            }
            System.err.println(arch + ": whole-model greedy ids " + Arrays.toString(whole) + " also from 2 and 3 stages");
        }
    }

    @Test
    void qwen3moeSplitsGiveTheWholeModelsGreedyTokens() throws IOException {
        for (SyntheticModel.Mix mix : List.of(SyntheticModel.Mix.Q8_0, SyntheticModel.Mix.Q4_K_M)) {
            Path p = SyntheticMoeModel.write(dir.resolve("qwen3moe-" + mix + ".gguf"), SyntheticMoeModel.tiny(mix, 6));
            try (GgufFile f = GgufFile.open(p)) {
                int[] whole;
                try (Chain c = llamaChain(f, 1)) {
                    whole = c.greedy(1, PROMPT, N);
                }
                for (int k = 2; k <= 3; k++) {
                    try (Chain c = llamaChain(f, k)) {
                        assertArrayEquals(whole, c.greedy(1, PROMPT, N), "qwen3moe " + mix + " split into " + k + " stages");
                    }
                }
                System.err.println("qwen3moe " + mix + ": whole-model greedy ids " + Arrays.toString(whole) + " also from 2 and 3 stages");
            }
        }
    }

    private Path slidingWindowModel(String arch, int layers, int window) throws IOException {
        Path p = dir.resolve(arch + "-" + layers + "L-w" + window + ".gguf");
        return switch (arch) {
            case "gemma3" -> SyntheticGemma3Model.write(p, new SyntheticGemma3Model.Spec(
                    SyntheticGemma3Model.tiny(SyntheticModel.Mix.Q8_0, layers).base(), window));
            case "gpt-oss" -> SyntheticGptOssModel.write(p, new SyntheticGptOssModel.Spec(
                    SyntheticGptOssModel.tiny(SyntheticModel.Mix.Q8_0, layers).moe(), window));
            default -> throw new IllegalArgumentException(arch);
        };
    }

    private int[] wholeModelGreedy(Path p) throws IOException {
        try (GgufFile f = GgufFile.open(p); Chain c = llamaChain(f, 1)) {
            return c.greedy(1, PROMPT, N);
        }
    }

    /**
     * gemma3 (window on 5 layers of 6) and gpt-oss (on every other layer): each shard carries the pattern of its own
     * layers. The window (4 positions) is far shorter than the 34 positions generated, and the same weights with a
     * window longer than that give other tokens, so a shard with the wrong pattern could not pass.
     */
    @ParameterizedTest
    @ValueSource(strings = {"gemma3", "gpt-oss"})
    void slidingWindowArchitecturesSplitGiveTheWholeModelsGreedyTokens(String arch) throws IOException {
        int[] whole = wholeModelGreedy(slidingWindowModel(arch, 6, 4));
        int[] noWindow = wholeModelGreedy(slidingWindowModel(arch, 6, 4096));
        assertFalse(Arrays.equals(whole, noWindow), arch + ": the window changes the tokens " + Arrays.toString(whole));
        try (GgufFile f = GgufFile.open(slidingWindowModel(arch, 6, 4))) {
            for (int k = 2; k <= 3; k++) {
                try (Chain c = llamaChain(f, k)) {
                    assertArrayEquals(whole, c.greedy(1, PROMPT, N), arch + " split into " + k + " stages");
                }
            }
        }
        System.err.println(arch + ": whole-model greedy ids " + Arrays.toString(whole) + " also from 2 and 3 stages");
    }

    @Test
    void aShardCarriesTheSlidingWindowPatternOfItsOwnLayers() throws IOException {
        try (GgufFile f = GgufFile.open(slidingWindowModel("gemma3", 6, 4))) {
            assertArrayEquals(new boolean[]{true, true, true, true, true, false}, ShardFile.slidingWindowLayers(f, "gemma3", 6));
            try (GgufFile shard = GgufFile.open(ShardFile.of(f, new LayerRange(3, 6), dir.resolve("shards")))) {
                assertArrayEquals(new boolean[]{true, true, false},
                        (boolean[]) shard.metadata().get("gemma3.attention.sliding_window_pattern"));
            }
        }
        try (GgufFile f = GgufFile.open(slidingWindowModel("gpt-oss", 6, 4));
             GgufFile shard = GgufFile.open(ShardFile.of(f, new LayerRange(1, 6), dir.resolve("shards")))) {
            assertArrayEquals(new boolean[]{false, true, false, true, false},
                    (boolean[]) shard.metadata().get("gpt-oss.attention.sliding_window_pattern"));
        }
    }

    /**
     * llama.cpp picks gemma3's query scale by the layer count: 62 layers (27B) get {@code 1/sqrt(nEmbd/nHead)},
     * others {@code 1/sqrt(headDim)}; here those are 1/sqrt(32) and 1/sqrt(64). Shards of a 62-layer model carry the
     * ratio in their query norms. Scaled before RoPE rather than after, that is not bit-exact, and 62 layers of
     * random weights amplify the rounding: fed the whole model's greedy tokens, the 2-stage split's logits stayed
     * within 3.2e-2 of its at every step (max |logit| 1.1); shards with the other scale (the fold taken out by hand)
     * were off by 0.97. The bound sits between.
     */
    @Test
    void gemma3With27BLayerCountSplitsGiveTheWholeModelsLogits() throws IOException {
        Path p = slidingWindowModel("gemma3", 62, 4);
        int[] whole = wholeModelGreedy(p);
        try (GgufFile f = GgufFile.open(p); Chain one = llamaChain(f, 1); Chain two = llamaChain(f, 2)) {
            assertEquals((float) Math.sqrt(64.0 / 32.0), ShardFile.gemma3QueryScale(f, "gemma3", 62, new LayerRange(0, 31)));
            float[] a = one.forward(1, 0, PROMPT);
            float[] b = two.forward(1, 0, PROMPT);
            float worst = maxDiff(a, b);
            for (int i = 0; i + 1 < N; i++) {
                a = one.forward(1, PROMPT.length + i, new int[]{whole[i]});
                b = two.forward(1, PROMPT.length + i, new int[]{whole[i]});
                worst = Math.max(worst, maxDiff(a, b));
            }
            System.err.printf("gemma3 62 layers, 2 stages: logits within %.2e of the whole model's (max |logit| %.1f)%n",
                    worst, maxAbs(a));
            assertTrue(worst < 0.15, "logits differ by " + worst);
        }
    }

    @Test
    void stories260KThroughThreeLlamaCppStagesSaysWhatOurEngineSays() throws IOException {
        try (GgufFile f = GgufFile.open(TestModels.stories260K());
             Generator java = StageBackends.generator("java", f, 1, OPTIONS.withContextLength(256));
             Generator llama = StageBackends.generator("llama.cpp", f, 3, OPTIONS.withContextLength(256))) {
            SamplingParams greedy = SamplingParams.GREEDY;
            Generator.Result expected = java.generate("Once upon a time", 64, greedy, null);
            Generator.Result got = llama.generate("Once upon a time", 64, greedy, null);
            System.err.println("stories260K, 3 llama.cpp stages: " + got.text());
            assertEquals(64, got.tokens().length);
            assertArrayEquals(expected.tokens(), got.tokens());
            assertEquals(expected.text(), got.text());
        }
    }

    @Test
    void gpuLayersDefaultToNoneOnTheCpuBuildAndAreCheckedWhenGiven() {
        assertEquals(0, LlamaCppStage.Settings.defaultGpuLayers(), "the CPU build has no GPU backend beside it");
        try {
            System.setProperty("bunshin.llama.gpu-layers", "12");
            assertEquals(12, LlamaCppStage.Settings.defaultGpuLayers());
            System.setProperty("bunshin.llama.gpu-layers", "all");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, LlamaCppStage.Settings::defaultGpuLayers);
            assertTrue(e.getMessage().contains("-Dbunshin.llama.gpu-layers") && e.getMessage().contains("'all'"), e.getMessage());
        } finally {
            System.clearProperty("bunshin.llama.gpu-layers");
        }
    }

    @Test
    void theKvPoolHoldsWhatFitsItsBudgetAndTheStageAdmitsNoMore() throws IOException {
        // A cell is a position of every layer: K and V of kvDim, F16.
        assertEquals(64, LlamaCppStage.sequencesWithin(1L << 40, 4096, 32, 1024, 64), "a large budget: all asked");
        assertEquals(3, LlamaCppStage.sequencesWithin(3L * 4096 * 32 * 2 * 1024 * 2 + 1, 4096, 32, 1024, 64));
        assertEquals(1, LlamaCppStage.sequencesWithin(1 << 20, 4096, 32, 1024, 64), "at least one sequence");
        try {
            System.setProperty("bunshin.llama.kv-budget", "3G");
            assertEquals(3L << 30, LlamaCppStage.Settings.defaultKvBudget());
            System.setProperty("bunshin.llama.kv-budget", "lots");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, LlamaCppStage.Settings::defaultKvBudget);
            assertTrue(e.getMessage().contains("-Dbunshin.llama.kv-budget") && e.getMessage().contains("'lots'"), e.getMessage());
        } finally {
            System.clearProperty("bunshin.llama.kv-budget");
        }
        try (GgufFile f = GgufFile.open(TestModels.stories260K())) {
            ModelShape shape = ModelShape.of(f);
            LayerRange range = new LayerRange(0, shape.nLayers());
            long two = 2L * OPTIONS.contextLength() * shape.nLayers() * 2 * shape.kvDim() * 2; // two sequences' worth
            try (LlamaCppStage stage = LlamaCppStage.load(f, range, OPTIONS,
                    new LlamaCppStage.Settings(dir.resolve("shards"), 0, 512, two + 100))) {
                assertEquals(2, stage.sequenceCapacity(), stage.describe());
                assertEquals(2L * OPTIONS.contextLength(), stage.kvBytes() / (shape.nLayers() * 2L * shape.kvDim() * 2L),
                        "the pool is two contexts of cells: " + stage.describe());
                assertTrue(stage.describe().contains("2 sequence(s) of " + OPTIONS.contextLength())
                        && stage.describe().contains("fewer than the " + OPTIONS.maxSequences() + " asked"), stage.describe());
                stage.forward(List.of(StageInput.ofTokens(1, 0, PROMPT), StageInput.ofTokens(2, 0, PROMPT)));
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> stage.forward(List.of(StageInput.ofTokens(3, 0, PROMPT))));
                assertTrue(e.getMessage().contains("KV pool holds 2"), e.getMessage());
                stage.free(1);
                assertEquals(1, stage.forward(List.of(StageInput.ofTokens(3, 0, PROMPT))).size(), "a freed sequence makes room");
            }
        }
    }

    @Test
    void manySequencesPerCallAndRewindsGiveTheSameLogits() throws IOException {
        try (GgufFile f = GgufFile.open(model("llama", SyntheticModel.Mix.Q8_0)); Chain c = llamaChain(f, 3)) {
            // Alone, one at a time.
            float[][] alone = new float[3][];
            for (int s = 0; s < 3; s++) {
                alone[s] = c.forward(10 + s, 0, Arrays.copyOf(PROMPT, 4 + 2 * s));
                for (StageBackend st : c.stages) st.free(10 + s);
            }
            // Together in one call per stage.
            List<StageInput> batch = new ArrayList<>();
            for (int s = 0; s < 3; s++) batch.add(StageInput.ofTokens(20 + s, 0, Arrays.copyOf(PROMPT, 4 + 2 * s)));
            List<float[]> out = c.forward(batch);
            for (int s = 0; s < 3; s++) {
                assertEquals(Chain.argmax(alone[s]), Chain.argmax(out.get(s)), "sequence " + s);
                assertTrue(maxDiff(alone[s], out.get(s)) < 1e-3, "batched logits " + maxDiff(alone[s], out.get(s)));
                assertEquals(4 + 2 * s, c.stages.get(1).cachedLength(20 + s));
            }
            // A redelivered record: re-running positions 2.. of sequence 22 gives the same logits as before.
            float[] again = c.forward(22, 2, Arrays.copyOfRange(PROMPT, 2, 8));
            assertTrue(maxDiff(out.get(2), again) < 1e-3, "rewound logits " + maxDiff(out.get(2), again));
            assertEquals(8, c.stages.getLast().cachedLength(22));
            // The same batch through stages that take 5 tokens per llama_decode: inputs span and share chunks.
            List<StageBackend> small = new ArrayList<>();
            for (LayerRange r : LayerRange.split(6, 3)) {
                small.add(LlamaCppStage.load(f, r, OPTIONS, new LlamaCppStage.Settings(dir.resolve("shards"), 0, 5)));
            }
            try (Chain s = new Chain(f, small)) {
                List<StageInput> again2 = new ArrayList<>();
                for (int k = 0; k < 3; k++) again2.add(StageInput.ofTokens(30 + k, 0, Arrays.copyOf(PROMPT, 4 + 2 * k)));
                List<float[]> chunked = s.forward(again2);
                for (int k = 0; k < 3; k++) {
                    assertTrue(maxDiff(alone[k], chunked.get(k)) < 1e-3, "chunked logits " + maxDiff(alone[k], chunked.get(k)));
                }
            }
            IllegalArgumentException gap = assertThrows(IllegalArgumentException.class, () -> c.forward(22, 10, new int[]{5}));
            assertTrue(gap.getMessage().contains("22"), gap.getMessage());
        }
    }

    @Test
    void rowsLeftOverFromFourAreFilledUpWithRowsThatChangeNoResult() throws IOException {
        try (GgufFile f = GgufFile.open(model("llama", SyntheticModel.Mix.Q4_0))) {
            List<List<float[]>> runs = new ArrayList<>();
            for (String mode : List.of("on", "off")) {
                System.setProperty("bunshin.llama.pad-rows", mode);
                Chain c;
                try {
                    c = llamaChain(f, 2);
                } finally {
                    System.clearProperty("bunshin.llama.pad-rows");
                }
                try (c) {
                    for (StageBackend st : c.stages) {
                        assertEquals(mode.equals("on"), st.describe().contains("rows padded"), st.describe());
                    }
                    List<float[]> out = new ArrayList<>();
                    // A prefill of 7 rows (one added), then three decode steps of 3 rows (one added each time: the
                    // spare sequence must be empty again after every call), then 3 prompts of 5 rows (15: one
                    // added), then 2 decode rows (two added).
                    List<StageInput> prompt = new ArrayList<>();
                    for (int s = 0; s < 3; s++) prompt.add(StageInput.ofTokens(s, 0, Arrays.copyOf(PROMPT, 1 + 2 * s + (s == 2 ? 1 : 0))));
                    out.addAll(c.forward(List.of(prompt.get(0), prompt.get(2))));
                    for (int step = 0; step < 3; step++) {
                        List<StageInput> batch = new ArrayList<>();
                        for (int s = 0; s < 3; s++) {
                            batch.add(StageInput.ofTokens(s, c.stages.getFirst().cachedLength(s), new int[]{400 + step + s}));
                        }
                        out.addAll(c.forward(batch));
                    }
                    for (StageBackend st : c.stages) for (int s = 0; s < 3; s++) st.free(s);
                    List<StageInput> more = new ArrayList<>();
                    for (int s = 10; s < 13; s++) more.add(StageInput.ofTokens(s, 0, Arrays.copyOfRange(PROMPT, s - 10, s - 5)));
                    out.addAll(c.forward(more));
                    out.addAll(c.forward(List.of(StageInput.ofTokens(10, 5, new int[]{500}), StageInput.ofTokens(11, 5, new int[]{501}))));
                    for (StageBackend st : c.stages) assertEquals(3, st.sequenceCount(), "sequences held, the spare one not among them");
                    runs.add(out);
                }
            }
            assertEquals(runs.get(1).size(), runs.get(0).size());
            for (int k = 0; k < runs.get(0).size(); k++) {
                float[] padded = runs.get(0).get(k), alone = runs.get(1).get(k);
                assertEquals(Chain.argmax(alone), Chain.argmax(padded), "output " + k);
                assertTrue(maxDiff(alone, padded) < 2e-2, "output " + k + " differs by " + maxDiff(alone, padded));
            }
        }
    }

    @Test
    void rowPaddingIsOnForRepackedWeightsOnTheCpuOnlyAndFillsTwoOrThreeLeftOverRowsToFour() throws IOException {
        try (GgufFile q4 = GgufFile.open(model("llama", SyntheticModel.Mix.Q4_0));
             GgufFile q8 = GgufFile.open(model("llama", SyntheticModel.Mix.Q8_0))) {
            RowPadding on = RowPadding.of(q4, new LayerRange(0, 3), 0, 4);
            assertTrue(on.on());
            assertTrue(!RowPadding.of(q4, new LayerRange(0, 3), 99, 4).on(), "a GPU stage");
            assertTrue(!RowPadding.of(q4, new LayerRange(0, 3), 0, RowPadding.LLAMA_MAX_SEQ).on(), "no spare sequence left");
            assertTrue(!RowPadding.of(q8, new LayerRange(0, 3), 0, 4).on(), "Q8_0 is not repacked");
            int[] expected = {0, 0, 2, 1, 0, 0, 2, 1, 0, 0, 2, 1};
            for (int rows = 0; rows < expected.length; rows++) assertEquals(expected[rows], on.extra(rows, 10), "rows " + rows);
            assertEquals(0, on.extra(15, 0), "no room left in n_batch");
            assertEquals(0, on.extra(14, 1), "not room enough in n_batch");
            System.setProperty("bunshin.llama.pad-rows", "sometimes");
            try {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RowPadding.of(q4, new LayerRange(0, 3), 0, 4));
                assertTrue(e.getMessage().contains("bunshin.llama.pad-rows") && e.getMessage().contains("sometimes"), e.getMessage());
            } finally {
                System.clearProperty("bunshin.llama.pad-rows");
            }
        }
    }

    @Test
    void javaAndLlamaCppStagesMixInOneChain() throws IOException {
        // F32 weights: llama.cpp's matmuls then take F32 activations (no Q8 quantisation of them), so what remains
        // between the backends is summation order and llama.cpp's F16 KV cache.
        try (GgufFile f = GgufFile.open(model("llama", SyntheticModel.Mix.ALL_F32))) {
            LayerRange[] r = LayerRange.split(6, 3);
            int[] whole;
            float[] wholeLogits;
            try (Chain c = llamaChain(f, 1)) {
                wholeLogits = c.forward(1, 0, PROMPT);
                c.stages.getFirst().free(1);
                whole = c.greedy(1, PROMPT, N);
            }
            List<StageBackend> mixed = List.of(StageRunner.load(f, r[0], OPTIONS), LlamaCppStage.load(f, r[1], OPTIONS, settings()),
                    StageRunner.load(f, r[2], OPTIONS));
            List<StageBackend> mixed2 = List.of(LlamaCppStage.load(f, r[0], OPTIONS, settings()), StageRunner.load(f, r[1], OPTIONS),
                    LlamaCppStage.load(f, r[2], OPTIONS, settings()));
            for (List<StageBackend> m : List.of(mixed, mixed2)) {
                try (Chain c = new Chain(f, m)) {
                    float[] l = c.forward(1, 0, PROMPT);
                    for (StageBackend s : m) s.free(1);
                    String kinds = m.stream().map(StageBackend::backend).toList().toString();
                    System.err.printf("%s: prompt logits differ from llama.cpp's whole model by at most %.2e (max |logit| %.2f)%n",
                            kinds, maxDiff(wholeLogits, l), maxAbs(wholeLogits));
                    assertArrayEquals(whole, c.greedy(1, PROMPT, N), kinds);
                }
            }
        }
    }

    @Test
    void shardsAreWrittenOnceAndHoldTheirLayersOnly() throws IOException {
        try (GgufFile f = GgufFile.open(model("llama", SyntheticModel.Mix.Q8_0))) {
            LayerRange mid = new LayerRange(2, 4);
            Path shard = ShardFile.of(f, mid, dir.resolve("shards"));
            long written = Files.getLastModifiedTime(shard).toMillis();
            assertEquals(shard, ShardFile.of(f, mid, dir.resolve("shards")));
            assertEquals(written, Files.getLastModifiedTime(shard).toMillis(), "reused, not rewritten");
            try (NativeModel m = NativeModel.load(shard, new NativeModel.Settings(1, 256, 1, 32, -1, 0))) {
                assertEquals(2, m.nLayer());
                assertEquals(0, m.nVocab(), "a middle shard has no vocabulary");
            }
            System.err.printf("middle shard %s: %d bytes of the model's %d%n", shard.getFileName(), Files.size(shard), f.size());
            assertTrue(Files.size(shard) < f.size() / 3, "two of six layers, no vocabulary");
        }
    }

    @Test
    void anArchitectureThatCannotBeCutIsRefusedByName() throws IOException {
        Path p = dir.resolve("mamba.gguf");
        new dev.bunshin.models.gguf.GgufWriter()
                .putString("general.architecture", "mamba").putUint32("mamba.block_count", 4)
                .putUint32("mamba.embedding_length", 64).putUint32("mamba.attention.head_count", 4)
                .addTensor("token_embd.weight", dev.bunshin.engine.gguf.GgmlType.F32, new long[]{64, 8}, new byte[64 * 8 * 4])
                .write(p);
        try (GgufFile f = GgufFile.open(p)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> LlamaCppStage.load(f, new LayerRange(0, 2), OPTIONS, settings()));
            assertTrue(e.getMessage().contains("mamba") && e.getMessage().contains("cannot be cut"), e.getMessage());
        }
    }

    static float maxDiff(float[] a, float[] b) {
        float m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }

    static float maxAbs(float[] a) {
        float m = 0;
        for (float v : a) m = Math.max(m, Math.abs(v));
        return m;
    }
}
