package dev.bunshin.engine;

import de.kherud.llama.InferenceParameters;
import de.kherud.llama.LlamaModel;
import de.kherud.llama.LogLevel;
import de.kherud.llama.ModelParameters;
import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.engine.gguf.GgufKeys;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Our engine against llama.cpp (de.kherud:llama) on the real stories260K model: greedy generation of 64 tokens
 * must give the same text for every prompt. First with prompts tokenised by llama.cpp itself (plus BOS) and our
 * ids decoded from the vocabulary pieces, which tests the forward pass alone; then end to end with our
 * {@code Tokenizer} and streaming {@code TokenDecoder}.
 */
public class LlamaCppFidelityTest {

    static final String[] PROMPTS = {
            "Once upon a time",
            "Lily and Tom went to the park",
            "The little dog",
            "One day, a big bear",
            "Tim had a red ball. He",
            "The sun was shining and the birds",
            "Mom said, \"Let's go",
            "Sara wanted to bake a cake",
            "There was a tiny frog who lived in a pond",
            "Ben was sad because",
            "A",
            "The cat and the mouse were friends. Every day they",
    };
    static final int N_PREDICT = 64;

    @Test
    void greedyTextEqualsLlamaCppOnStories260K() throws Exception {
        Path model = TestModels.stories260K();
        // The JNI loader unpacks its library into this directory but does not create it.
        String tmp = System.getProperty("de.kherud.llama.tmpdir");
        if (tmp != null) java.nio.file.Files.createDirectories(Path.of(tmp));
        LlamaModel.setLogger(null, (LogLevel level, String msg) -> { });
        List<String> expected = new ArrayList<>();
        List<int[]> prompts = new ArrayList<>();
        ModelParameters mp = new ModelParameters().setModel(model.toString()).setThreads(1).setCtxSize(512)
                .setGpuLayers(0);
        try (LlamaModel llama = new LlamaModel(mp)) {
            for (String p : PROMPTS) {
                InferenceParameters ip = new InferenceParameters(p).setTemperature(0f).setNPredict(N_PREDICT)
                        .setRepeatPenalty(1f).setFrequencyPenalty(0f).setPresencePenalty(0f).setSeed(42)
                        .setCachePrompt(false);
                expected.add(llama.complete(ip));
                prompts.add(llama.encode(p));
            }
        }
        // Cross-check against the README of shared/models (llama.cpp's output recorded there).
        assertTrue(expected.get(0).startsWith(", there was a little girl named Lily. She loved to play outside in the park."),
                expected.get(0));
        long t0 = System.nanoTime();
        try (GgufFile f = GgufFile.open(model); StageChain chain = new StageChain(f, 1, EngineOptions.defaults().withThreads(2))) {
            String[] pieces = (String[]) f.get(GgufKeys.TOKENIZER_TOKENS);
            int bos = f.getInt(GgufKeys.TOKENIZER_BOS_ID);
            int eos = f.getInt(GgufKeys.TOKENIZER_EOS_ID);
            int mismatches = 0;
            StringBuilder report = new StringBuilder();
            for (int i = 0; i < PROMPTS.length; i++) {
                int[] tokens = withBos(bos, prompts.get(i));
                List<Integer> ids = chain.greedy(i, tokens, N_PREDICT, eos);
                chain.free(i);
                String got = decode(pieces, ids, eos);
                if (!got.equals(expected.get(i))) {
                    mismatches++;
                    report.append("\nprompt ").append(PROMPTS[i]).append("\n  llama.cpp: ").append(expected.get(i))
                            .append("\n  bunshin:   ").append(got);
                }
                assertTrue(expected.get(i).length() > 20, "llama.cpp gave almost nothing for " + PROMPTS[i]);
            }
            // End to end with our own tokenizer and streaming decoder: same prompt ids, same text.
            dev.bunshin.engine.tokenizer.Tokenizer tok = dev.bunshin.engine.tokenizer.Tokenizer.fromGguf(f);
            for (int i = 0; i < PROMPTS.length; i++) {
                int[] ours = tok.encode(PROMPTS[i], true, false);
                assertArrayEquals(withBos(bos, prompts.get(i)), ours, "prompt ids of " + PROMPTS[i]);
                List<Integer> ids = chain.greedy(100 + i, ours, N_PREDICT, eos);
                chain.free(100 + i);
                dev.bunshin.engine.tokenizer.TokenDecoder dec = tok.newDecoder();
                StringBuilder text = new StringBuilder();
                for (int id : ids) {
                    if (tok.isEndOfGeneration(id)) break;
                    text.append(dec.push(id));
                }
                text.append(dec.flush());
                assertEquals(expected.get(i), text.toString(), "end to end, prompt " + PROMPTS[i]);
            }
            System.out.printf("bunshin generated %d prompts x %d tokens in %.1f s; first: %s%n", PROMPTS.length,
                    N_PREDICT, (System.nanoTime() - t0) / 1e9, expected.get(0));
            assertEquals(0, mismatches, mismatches + " of " + PROMPTS.length + " prompts differ:" + report);
        }
    }

    public static int[] withBos(int bos, int[] ids) {
        int[] t = new int[ids.length + 1];
        t[0] = bos;
        System.arraycopy(ids, 0, t, 1, ids.length);
        return t;
    }

    /** SentencePiece pieces: '▁' is a space, {@code <0xXX>} is a raw byte; the end-of-text token prints nothing. */
    public static String decode(String[] pieces, List<Integer> ids, int eos) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int id : ids) {
            if (id == eos) break;
            String p = pieces[id];
            if (p.length() == 6 && p.startsWith("<0x") && p.endsWith(">")) {
                out.write(Integer.parseInt(p.substring(3, 5), 16));
            } else {
                out.writeBytes(p.replace('\u2581', ' ').getBytes(StandardCharsets.UTF_8));
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
