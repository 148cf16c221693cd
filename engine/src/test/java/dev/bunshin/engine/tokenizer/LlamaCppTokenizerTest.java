package dev.bunshin.engine.tokenizer;

import de.kherud.llama.LlamaModel;
import de.kherud.llama.ModelParameters;
import dev.bunshin.engine.TestModels;
import dev.bunshin.engine.gguf.GgufFile;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Our tokenizer against llama.cpp itself (de.kherud:llama loads stories260K.gguf): {@code LlamaModel.encode} is
 * llama.cpp's tokenize with add_special = false, parse_special = true; {@code decode} concatenates token pieces.
 */
class LlamaCppTokenizerTest {

    private static final String ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
            + "      \n\n\t.,;:!?'\"()[]{}<>-_=+*/\\|@#$%^&~`éèüßñçøåæœ€£¥©®°±×÷αβγδλπΩжщыэ中文字日本語한국어"
            + "🦙😀🚀✅";

    @Test
    void encodeAndDecodeMatchLlamaCppOnManyPrompts() throws IOException {
        Path model = TestModels.stories260K();
        List<String> prompts = new ArrayList<>(List.of("Once upon a time", "", " ", "  leading", "trailing  ",
                "Lily's mom said, \"No!\"", "<s>Once</s> upon", "a<unk>b", "\n\nThe end.\n", "naïve café 🦙",
                "There was a little girl named Lily. She loved to play outside in the park."));
        SplittableRandom random = new SplittableRandom(42);
        int[] alphabet = ALPHABET.codePoints().toArray();
        for (int i = 0; i < 300; i++) {
            StringBuilder sb = new StringBuilder();
            int len = random.nextInt(1, 40);
            for (int j = 0; j < len; j++) {
                if (random.nextInt(4) == 0) {
                    sb.append(List.of(" the", " was", "Once", " upon", " Lily", "<s>", "</s>").get(random.nextInt(7)));
                } else {
                    sb.appendCodePoint(alphabet[random.nextInt(alphabet.length)]);
                }
            }
            prompts.add(sb.toString());
        }
        // the binding extracts its native library there and fails if the directory is missing
        String tmp = System.getProperty("de.kherud.llama.tmpdir");
        if (tmp != null) {
            java.nio.file.Files.createDirectories(Path.of(tmp));
        }
        List<String> failures = new ArrayList<>();
        try (GgufFile file = GgufFile.open(model);
             LlamaModel llama = new LlamaModel(new ModelParameters().setModel(model.toString()).setThreads(1)
                     .setGpuLayers(0).setCtxSize(512).disableLog())) {
            Tokenizer ours = Tokenizer.fromGguf(file);
            for (String p : prompts) {
                int[] want = llama.encode(p);
                int[] got = ours.encode(p, false, true);
                if (!Arrays.equals(want, got)) {
                    failures.add("encode '" + p + "'\n  llama.cpp " + Arrays.toString(want) + "\n  ours      "
                            + Arrays.toString(got));
                    continue;
                }
                String wantText = llama.decode(want);
                StringBuilder streamed = new StringBuilder();
                TokenDecoder d = ours.newDecoder();
                for (int t : got) {
                    streamed.append(d.push(t));
                }
                streamed.append(d.flush());
                if (!wantText.equals(streamed.toString()) && !containsControl(ours, got)) {
                    failures.add("decode '" + p + "'\n  llama.cpp '" + wantText + "'\n  ours      '" + streamed + "'");
                }
            }
        }
        assertTrue(failures.isEmpty(), failures.size() + " of " + prompts.size() + " prompts differ:\n"
                + String.join("\n", failures.subList(0, Math.min(10, failures.size()))));
    }

    /**
     * llama.cpp's decode renders control and unknown tokens as their text (special = true); ours renders them as
     * nothing (llama.cpp's special = false), so such sequences are compared by encoding only.
     */
    private static boolean containsControl(Tokenizer t, int[] ids) {
        return Arrays.stream(ids).anyMatch(id -> t.tokenBytes(id).length == 0);
    }
}
