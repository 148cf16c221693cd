package dev.bunshin.engine.tokenizer;

import de.kherud.llama.LlamaModel;
import de.kherud.llama.ModelParameters;
import dev.bunshin.engine.TestModels;
import dev.bunshin.engine.gguf.GgufFile;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Vocabularies and pre-tokenizers against llama.cpp itself. llama.cpp (de.kherud:llama) cannot load a
 * vocabulary-only GGUF, so the vocabulary is wrapped in a tiny zero-weight llama model; then both tokenize
 * llama.cpp's test inputs plus random text (add_special = false, parse_special = true) and decode the result.
 * Every vocabulary file of {@code models/vocab/}, and every pre-tokenizer name over GPT-2's vocabulary.
 */
class LlamaCppVocabularyTest {

    private static final String ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
            + "        \n\n\r\t.,;:!?'\"()[]{}<>-_=+*/\\|@#$%^&~`éèüßñçøåæœ€£¥©®°±×÷αβγδλπΩжщыэ中文字日本語한국어"
            + "\u00a0\u2003\u3000١٢٣½²！，。🦙😀🚀✅\u0301\u1F7D\u1FBE\u1FD3\u1FDB\u2126\u212A\u0390ǅ";

    private static Map<String, Object> gpt2Vocab;
    private static List<String> inputs;

    @BeforeAll
    static void readGpt2Vocab() throws IOException {
        Path gguf = TestModels.require("vocab/ggml-vocab-gpt-2.gguf");
        try (GgufFile f = GgufFile.open(gguf)) {
            gpt2Vocab = new LinkedHashMap<>();
            gpt2Vocab.put("tokenizer.ggml.model", "gpt2");
            gpt2Vocab.put("tokenizer.ggml.tokens", f.get("tokenizer.ggml.tokens"));
            gpt2Vocab.put("tokenizer.ggml.token_type", f.get("tokenizer.ggml.token_type"));
            gpt2Vocab.put("tokenizer.ggml.merges", f.get("tokenizer.ggml.merges"));
            gpt2Vocab.put("tokenizer.ggml.bos_token_id", 50256L);
            gpt2Vocab.put("tokenizer.ggml.eos_token_id", 50256L);
        }
        inputs = new ArrayList<>(TokenizerTestVectors.readInputs(Path.of(gguf + ".inp")));
        SplittableRandom random = new SplittableRandom(7);
        int[] alphabet = ALPHABET.codePoints().toArray();
        // special-token texts of the various vocabularies, to exercise the partition (and phi-3's rstrip)
        List<String> words = List.of(" the", "'s", "'LL", " don't", "123456", " 3.14", "<|endoftext|>", "  \n",
                "\r\n", " Hello", "World", "ÀÉÎ", "<|user|>", "<|end|>\n ", " <|assistant|>", "</s>", "<s> ", "<unk>",
                "[CLS]", "[SEP] ", "<｜begin▁of▁sentence｜>", "<fim_prefix>", "<|padding|>");
        for (int i = 0; i < 150; i++) {
            StringBuilder sb = new StringBuilder();
            int len = random.nextInt(1, 30);
            for (int j = 0; j < len; j++) {
                if (random.nextInt(3) == 0) {
                    sb.append(words.get(random.nextInt(words.size())));
                } else {
                    sb.appendCodePoint(alphabet[random.nextInt(alphabet.length)]);
                }
            }
            inputs.add(sb.toString());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama-spm", "phi-3", "gpt-2", "deepseek-coder", "mpt", "refact", "bert-bge"})
    void vocabularyFileEncodesAndDecodesLikeLlamaCpp(String name, @TempDir Path dir) throws IOException {
        Path gguf = TestModels.require("vocab/ggml-vocab-" + name + ".gguf");
        Map<String, Object> meta = new LinkedHashMap<>();
        int nVocab;
        try (GgufFile f = GgufFile.open(gguf)) {
            for (var e : f.metadata().entrySet()) {
                if (e.getKey().startsWith("tokenizer.") || e.getKey().equals("general.name")) {
                    meta.put(e.getKey(), e.getValue());
                }
            }
            nVocab = ((String[]) f.get("tokenizer.ggml.tokens")).length;
        }
        List<String> failures = compareWithLlamaCpp(dir.resolve("vocab-" + name + ".gguf"), meta, nVocab, true);
        assertTrue(failures.isEmpty(), name + ": " + failures.size() + " of " + inputs.size() + " differ:\n"
                + String.join("\n", failures.subList(0, Math.min(6, failures.size()))));
    }

    @ParameterizedTest
    @ValueSource(strings = {"default", "gpt-2", "llama-bpe", "qwen2", "deepseek-llm", "deepseek-coder", "falcon",
            "mpt", "starcoder", "refact", "command-r", "smollm", "stablelm2", "olmo", "dbrx", "poro-chat", "viking",
            "jais", "codeshell", "bloom", "exaone", "chatglm-bpe", "tekken", "chameleon", "deepseek-v3", "minerva-7b",
            "gpt-4o", "deepseek-r1-qwen"})
    // newer names (llama4, qwen35, seed-coder, bailingmoe, hunyuan, grok-2, glm4, ...) are unknown to the llama.cpp
    // inside de.kherud:llama 4.2.0, so they cannot be compared here; PreTokenizerTest checks they all work
    void encodesLikeLlamaCpp(String pre, @TempDir Path dir) throws IOException {
        Map<String, Object> meta = new LinkedHashMap<>(gpt2Vocab);
        meta.put("tokenizer.ggml.pre", pre);
        int nVocab = ((String[]) gpt2Vocab.get("tokenizer.ggml.tokens")).length;
        List<String> failures = compareWithLlamaCpp(dir.resolve("vocab-" + pre + ".gguf"), meta, nVocab, false);
        assertTrue(failures.isEmpty(), pre + ": " + failures.size() + " of " + inputs.size() + " differ:\n"
                + String.join("\n", failures.subList(0, Math.min(6, failures.size()))));
    }

    /** Differences between llama.cpp and us on every input (encoding; with {@code decode} also the text). */
    private static List<String> compareWithLlamaCpp(Path model, Map<String, Object> meta, int nVocab, boolean decode)
            throws IOException {
        String tmp = System.getProperty("de.kherud.llama.tmpdir");
        if (tmp != null) {
            Files.createDirectories(Path.of(tmp)); // the binding extracts its native library there
        }
        VocabModelFile.write(model, meta, nVocab);
        List<String> failures = new ArrayList<>();
        try (GgufFile file = GgufFile.open(model);
             LlamaModel llama = new LlamaModel(new ModelParameters().setModel(model.toString()).setThreads(1)
                     .setGpuLayers(0).setCtxSize(256).disableLog())) {
            Tokenizer ours = Tokenizer.fromGguf(file);
            for (String s : inputs) {
                int[] want = llama.encode(s);
                int[] got = ours.encode(s, false, true);
                String shown = s.replace("\n", "\\n").replace("\r", "\\r");
                if (!Arrays.equals(want, got)) {
                    failures.add("'" + shown + "'\n  llama.cpp " + Arrays.toString(want) + "\n  ours      "
                            + Arrays.toString(got) + "\n  words " + ours.preTokenize(s));
                } else if (decode && Arrays.stream(got).allMatch(t -> ours.tokenBytes(t).length > 0)) {
                    // llama.cpp's decode here concatenates pieces with special = true, so only sequences without
                    // control/unknown tokens (which we render as nothing) can be compared
                    String wantText = llama.decode(want);
                    StringBuilder streamed = new StringBuilder();
                    TokenDecoder d = ours.newDecoder();
                    for (int t : got) {
                        streamed.append(d.push(t));
                    }
                    streamed.append(d.flush());
                    if (!wantText.equals(streamed.toString())) {
                        failures.add("decode '" + shown + "'\n  llama.cpp '" + wantText + "'\n  ours      '"
                                + streamed + "'");
                    }
                }
            }
        }
        return failures;
    }
}
