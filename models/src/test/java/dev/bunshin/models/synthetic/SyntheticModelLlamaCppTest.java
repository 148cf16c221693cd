package dev.bunshin.models.synthetic;

import dev.bunshin.engine.EngineOptions;
import dev.bunshin.engine.StageChain;
import dev.bunshin.engine.LlamaCppFidelityTest;
import de.kherud.llama.InferenceParameters;
import de.kherud.llama.LlamaModel;
import de.kherud.llama.LlamaTokenPrompts;
import de.kherud.llama.LogLevel;
import de.kherud.llama.ModelParameters;
import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.engine.gguf.GgufKeys;
import dev.bunshin.models.synthetic.SyntheticModel;
import dev.bunshin.models.synthetic.SyntheticModel.Mix;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Synthetic models ({@link SyntheticModel}) of every architecture and tensor type, loaded by llama.cpp
 * (de.kherud:llama) and by our engine. llama.cpp must accept the file and generate; with F32 weights the greedy
 * text must be equal for {@link #N_PREDICT} tokens on each prompt; with any type, teacher-forced along our greedy
 * sequence, llama.cpp's next token must be ours or a near-tie in our logits (see {@link #MAX_GAP}). A wrong block
 * layout anywhere (writer, quantizer, dequantizer, kernel) breaks this at the first step.
 */
class SyntheticModelLlamaCppTest {

    static final String[] PROMPTS = {"Once upon a time", "the dog saw a big red ball", "Tom and Lily"};
    static final int N_PREDICT = 24;
    /**
     * Where llama.cpp's next token differs from ours, the logit of its token in our engine must be within this
     * fraction of our logit range below our top logit: a near-tie, which llama.cpp's quantized activations
     * (Q8_0 / Q8_K for quantized weights, F16 for F16 weights) can flip.
     */
    static final double MAX_GAP = 0.01;
    /** Teacher-forced steps on which both pick the same token. */
    static final double MIN_AGREEMENT = 0.9;

    @TempDir
    static Path dir;

    @BeforeAll
    static void quietLlama() throws Exception {
        String tmp = System.getProperty("de.kherud.llama.tmpdir");
        if (tmp != null) Files.createDirectories(Path.of(tmp));
        LlamaModel.setLogger(null, (LogLevel level, String msg) -> { });
    }

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (Mix m : Mix.values()) {
            out.add(Arguments.of("llama", m));
        }
        // qwen3 is not here: the llama.cpp inside de.kherud:llama 4.2.0 predates it ("unknown model architecture").
        for (String arch : List.of("qwen2")) {
            for (Mix m : List.of(Mix.ALL_F32, Mix.Q8_0, Mix.Q4_0, Mix.Q4_K_M, Mix.Q5_K, Mix.Q3_K)) {
                out.add(Arguments.of(arch, m));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void llamaCppLoadsItAndOurEngineAgrees(String arch, Mix mix) throws Exception {
        Path model = SyntheticModel.write(dir.resolve(arch + "-" + mix + ".gguf"), SyntheticModel.tiny(arch, mix));
        ModelParameters mp = new ModelParameters().setModel(model.toString()).setThreads(2).setCtxSize(256).setGpuLayers(0);
        int agreed = 0;
        int steps = 0;
        double worstGap = 0;
        StringBuilder report = new StringBuilder();
        try (LlamaModel llama = new LlamaModel(mp);
             GgufFile f = GgufFile.open(model);
             StageChain chain = new StageChain(f, 2, EngineOptions.defaults().withThreads(2))) {
            String[] pieces = (String[]) f.get(GgufKeys.TOKENIZER_TOKENS);
            int bos = f.getInt(GgufKeys.TOKENIZER_BOS_ID);
            int eos = f.getInt(GgufKeys.TOKENIZER_EOS_ID);
            Map<String, Integer> idOfText = new HashMap<>();
            for (int id = 0; id < pieces.length; id++) {
                idOfText.putIfAbsent(pieces[id].replace('\u2581', ' '), id);
            }
            for (int i = 0; i < PROMPTS.length; i++) {
                int[] prompt = LlamaCppFidelityTest.withBos(bos, llama.encode(PROMPTS[i]));
                // Our greedy run, keeping the logits of every step.
                List<Integer> ids = new ArrayList<>();
                List<float[]> logits = new ArrayList<>();
                float[] l = chain.forward(i, 0, prompt);
                for (int t = 0; t < N_PREDICT; t++) {
                    int tok = StageChain.argmax(l);
                    ids.add(tok);
                    logits.add(l);
                    if (t < N_PREDICT - 1) {
                        l = chain.forward(i, prompt.length + t, new int[] {tok});
                    }
                }
                chain.free(i);
                assertTrue(ids.stream().noneMatch(id -> id == eos), "the synthetic head never picks EOS: " + ids);
                String ours = LlamaCppFidelityTest.decode(pieces, ids, eos);

                // Free-running greedy text: llama.cpp computes F32 models with F32 activations, so it must be equal.
                String theirs = llama.complete(new InferenceParameters(PROMPTS[i]).setTemperature(0f).setNPredict(N_PREDICT)
                        .setRepeatPenalty(1f).setFrequencyPenalty(0f).setPresencePenalty(0f).setSeed(42).setCachePrompt(false));
                assertTrue(theirs.length() >= N_PREDICT, "llama.cpp generated only \"" + theirs + "\" for " + PROMPTS[i]);
                if (mix == Mix.ALL_F32) {
                    assertEquals(theirs, ours, arch + " " + mix + ": greedy text for \"" + PROMPTS[i] + "\"");
                }

                // Teacher forcing: llama.cpp's next token after exactly our prefix, step by step.
                for (int t = 0; t < N_PREDICT; t++) {
                    int[] ctx = new int[prompt.length + t];
                    System.arraycopy(prompt, 0, ctx, 0, prompt.length);
                    for (int k = 0; k < t; k++) {
                        ctx[prompt.length + k] = ids.get(k);
                    }
                    String piece = LlamaTokenPrompts.completeGreedy(llama, ctx, 1);
                    Integer their = idOfText.get(piece);
                    assertTrue(their != null, "llama.cpp produced \"" + piece + "\", not one token's text");
                    steps++;
                    if (their.equals(ids.get(t))) {
                        agreed++;
                        continue;
                    }
                    float[] lt = logits.get(t);
                    double gap = (lt[ids.get(t)] - lt[their]) / range(lt);
                    worstGap = Math.max(worstGap, gap);
                    report.append(String.format("%n  prompt %d step %d: ours %d (%s) theirs %d (%s), gap %.4f of the logit range",
                            i, t, ids.get(t), pieces[ids.get(t)], their, pieces[their], gap));
                }
            }
        }
        System.out.printf("%s %s: %d/%d teacher-forced steps agree, worst gap %.4f%s%n", arch, mix, agreed, steps, worstGap, report);
        assertTrue(worstGap <= MAX_GAP, arch + " " + mix + ": llama.cpp chose a token that is not a near-tie in our logits:" + report);
        assertTrue(agreed >= MIN_AGREEMENT * steps, arch + " " + mix + ": only " + agreed + " of " + steps + " steps agree:" + report);
    }

    @ParameterizedTest(name = "qwen3 {0}")
    @EnumSource(value = Mix.class, names = {"ALL_F32", "Q8_0", "Q4_K_M", "Q6_K"})
    void ourEngineRunsQwen3WhichThisLlamaCppCannotLoad(Mix mix) throws Exception {
        Path model = SyntheticModel.write(dir.resolve("qwen3-" + mix + ".gguf"), SyntheticModel.tiny("qwen3", mix));
        try (GgufFile f = GgufFile.open(model);
             StageChain chain = new StageChain(f, 2, EngineOptions.defaults().withThreads(2))) {
            int eos = f.getInt(GgufKeys.TOKENIZER_EOS_ID);
            List<Integer> ids = chain.greedy(1, new int[] {f.getInt(GgufKeys.TOKENIZER_BOS_ID), 400, 300}, N_PREDICT, eos);
            assertEquals(N_PREDICT, ids.size(), "the synthetic head never picks EOS: " + ids);
            float[] logits = chain.forward(2, 0, new int[] {1, 400, 300});
            for (float v : logits) {
                assertTrue(Float.isFinite(v), "finite logits");
            }
            assertTrue(range(logits) > 1, "logits spread out: " + range(logits));
        }
    }

    private static double range(float[] l) {
        float min = Float.POSITIVE_INFINITY;
        float max = Float.NEGATIVE_INFINITY;
        for (float v : l) {
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        return max - min;
    }
}
