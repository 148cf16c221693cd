package dev.bunshin.engine.model;

import de.kherud.llama.InferenceParameters;
import de.kherud.llama.LlamaModel;
import de.kherud.llama.LogLevel;
import de.kherud.llama.ModelParameters;
import dev.bunshin.engine.EngineOptions;
import dev.bunshin.engine.LayerRange;
import dev.bunshin.engine.ModelConfig;
import dev.bunshin.engine.StageInput;
import dev.bunshin.engine.StageRunner;
import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.engine.gguf.GgufKeys;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each architecture on small random-weight models: against the naive double-precision reference (all of them),
 * and against llama.cpp's greedy text (llama and qwen2; the llama.cpp in de.kherud:llama 4.2.0 predates qwen3).
 */
class ArchitectureTest {

    @TempDir
    static Path tmp;

    static final int[] TOKENS = {1, 403, 407, 261, 378, 322, 263, 280, 26, 300, 301, 99};

    @Test
    void everyArchitectureMatchesTheNaiveReference() throws Exception {
        for (TinyModels.Spec spec : List.of(TinyModels.LLAMA, TinyModels.LLAMA_SCALED, TinyModels.QWEN2, TinyModels.QWEN3)) {
            Path p = TinyModels.write(tmp, spec, 11);
            try (GgufFile f = GgufFile.open(p);
                 StageRunner r = StageRunner.load(f, new LayerRange(0, spec.nLayers()), EngineOptions.defaults().withThreads(2))) {
                ModelConfig c = r.config();
                assertEquals(spec.headDim(), c.headDim());
                assertEquals(spec.arch().startsWith("qwen"), c.ropeNeox());
                NaiveForward naive = new NaiveForward(f);
                // Prefill half, then one token at a time: every step's logits against the reference.
                int half = TOKENS.length / 2;
                check(spec, half, r.forward(List.of(StageInput.ofTokens(1, 0, java.util.Arrays.copyOf(TOKENS, half)))).get(0).logits(),
                        naive.logits(java.util.Arrays.copyOf(TOKENS, half)));
                for (int t = half; t < TOKENS.length; t++) {
                    float[] got = r.forward(List.of(StageInput.ofTokens(1, t, new int[]{TOKENS[t]}))).get(0).logits();
                    check(spec, t + 1, got, naive.logits(java.util.Arrays.copyOf(TOKENS, t + 1)));
                }
            }
        }
    }

    private static void check(TinyModels.Spec spec, int n, float[] got, double[] want) {
        double max = 0;
        for (double d : want) max = Math.max(max, Math.abs(d));
        for (int i = 0; i < want.length; i++) {
            assertTrue(Math.abs(got[i] - want[i]) <= 1e-4 * max + 1e-5,
                    spec.arch() + " " + spec + " after " + n + " tokens, logit " + i + ": " + got[i] + " vs reference " + want[i]);
        }
    }

    @Test
    void llamaAndQwen2GreedyTextEqualsLlamaCpp() throws Exception {
        String tmpdir = System.getProperty("de.kherud.llama.tmpdir");
        if (tmpdir != null) Files.createDirectories(Path.of(tmpdir));
        LlamaModel.setLogger(null, (LogLevel level, String msg) -> { });
        String[] prompts = {"Once upon a time", "The little dog", "Tim had a red ball. He", "A"};
        for (TinyModels.Spec spec : List.of(TinyModels.LLAMA, TinyModels.LLAMA_SCALED, TinyModels.QWEN2)) {
            Path p = TinyModels.write(tmp, spec, 5);
            List<String> expected = new ArrayList<>();
            List<int[]> encoded = new ArrayList<>();
            try (LlamaModel llama = new LlamaModel(new ModelParameters().setModel(p.toString()).setThreads(1).setCtxSize(256))) {
                for (String prompt : prompts) {
                    expected.add(llama.complete(new InferenceParameters(prompt).setTemperature(0f).setNPredict(32)
                            .setRepeatPenalty(1f).setCachePrompt(false)));
                    encoded.add(llama.encode(prompt));
                }
            }
            try (GgufFile f = GgufFile.open(p);
                 StageRunner r = StageRunner.load(f, new LayerRange(0, spec.nLayers()), EngineOptions.defaults().withThreads(1))) {
                String[] pieces = (String[]) f.get(GgufKeys.TOKENIZER_TOKENS);
                int[] types = (int[]) f.get(GgufKeys.TOKENIZER_TOKEN_TYPE);
                for (int i = 0; i < prompts.length; i++) {
                    int[] ids = new int[encoded.get(i).length + 1];
                    ids[0] = 1;
                    System.arraycopy(encoded.get(i), 0, ids, 1, encoded.get(i).length);
                    float[] logits = r.forward(List.of(StageInput.ofTokens(i, 0, ids))).get(0).logits();
                    ByteArrayOutputStream text = new ByteArrayOutputStream();
                    int pos = ids.length;
                    for (int step = 0; step < 32; step++) {
                        int tok = argmax(logits);
                        if (tok == 2) break;
                        String piece = pieces[tok];
                        if (types[tok] == 3) {
                            // Control tokens (BOS, ...) print nothing in llama.cpp's output.
                        } else if (piece.startsWith("<0x") && piece.length() == 6) text.write(Integer.parseInt(piece.substring(3, 5), 16));
                        else text.writeBytes(piece.replace('\u2581', ' ').getBytes(StandardCharsets.UTF_8));
                        if (step < 31) logits = r.forward(List.of(StageInput.ofTokens(i, pos++, new int[]{tok}))).get(0).logits();
                    }
                    assertEquals(expected.get(i), text.toString(StandardCharsets.UTF_8),
                            spec + " prompt \"" + prompts[i] + "\"");
                }
            }
        }
    }

    private static int argmax(float[] l) {
        int b = 0;
        for (int i = 1; i < l.length; i++) if (l[i] > l[b]) b = i;
        return b;
    }
}
