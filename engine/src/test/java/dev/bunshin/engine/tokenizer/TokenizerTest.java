package dev.bunshin.engine.tokenizer;

import dev.bunshin.engine.TestModels;
import dev.bunshin.engine.gguf.GgufFile;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TokenizerTest {

    private static GgufFile storiesFile;
    private static Tokenizer stories;

    @BeforeAll
    static void load() throws IOException {
        storiesFile = GgufFile.open(TestModels.stories260K());
        stories = Tokenizer.fromGguf(storiesFile);
    }

    @AfterAll
    static void close() {
        if (storiesFile != null) {
            storiesFile.close();
        }
    }

    private static Tokenizer vocab(String name) throws IOException {
        try (GgufFile f = GgufFile.open(TestModels.require("vocab/ggml-vocab-" + name + ".gguf"))) {
            return Tokenizer.fromGguf(f); // the tokenizer copies what it needs out of the mapping
        }
    }

    @Test
    void storiesPromptEncodesAsLlamaCppDid() {
        // models/README.md: llama.cpp evaluated BOS + [403, 407, 261, 378] for this prompt
        assertArrayEquals(new int[]{1, 403, 407, 261, 378}, stories.encode("Once upon a time", true, false));
        assertArrayEquals(new int[]{403, 407, 261, 378}, stories.encode("Once upon a time", false, false));
        assertEquals(1, stories.bos());
        assertEquals(2, stories.eos());
        assertEquals(512, stories.vocabSize());
        assertTrue(stories.addsBos());
        assertFalse(stories.addsEos());
    }

    @Test
    void emptyTextGivesOnlyBos() {
        assertArrayEquals(new int[]{1}, stories.encode("", true, false));
        assertArrayEquals(new int[0], stories.encode("", false, false));
    }

    @Test
    void decodeDropsTheSentencePieceSpaceAndRendersControlTokensAsNothing() {
        int[] ids = stories.encode("Once upon a time", false, false);
        assertEquals("Once upon a time", stories.decode(ids));
        // as llama_detokenize(remove_special = false): BOS renders as nothing, and consumed the space stripping
        assertEquals(" Once upon a time", stories.decode(stories.encode("Once upon a time", true, false)));
        assertEquals(0, stories.tokenBytes(1).length);
        assertEquals(0, stories.tokenBytes(2).length);
        assertEquals(0, stories.tokenBytes(0).length, "<unk>");
        assertTrue(stories.isControl(1));
        assertTrue(stories.isEndOfGeneration(2));
        assertFalse(stories.isEndOfGeneration(403));
    }

    @Test
    void byteFallbackRoundTripsMultiByteCharacters() {
        String text = "naïve café — 日本語 🦙 done";
        int[] ids = stories.encode(text, false, false);
        assertTrue(ids.length > text.length() / 2, "the 512-token vocabulary spells non-ASCII as <0xXX> tokens");
        assertEquals(text, stories.decode(ids));
    }

    @Test
    void streamingDecoderHoldsBackSplitCharacters() {
        // 🦙 is F0 9F A6 99: four byte tokens; nothing may come out until the last one
        int[] ids = stories.encode("a🦙b", false, false);
        TokenDecoder d = stories.newDecoder();
        StringBuilder out = new StringBuilder();
        int emittedPartial = 0;
        for (int id : ids) {
            String s = d.push(id);
            assertFalse(s.contains("\uFFFD"), "no replacement characters mid-stream: " + s);
            if (!s.isEmpty() && s.codePoints().anyMatch(cp -> cp == 0x1F999)) {
                emittedPartial++;
            }
            out.append(s);
        }
        out.append(d.flush());
        assertEquals(" a🦙b", out.toString(), "pieces keep the SentencePiece space (as llama.cpp streams them)");
        assertEquals(1, emittedPartial);
        int llamaBytes = 0;
        for (int id : ids) {
            llamaBytes += stories.tokenBytes(id).length;
        }
        assertEquals(" a🦙b".getBytes(StandardCharsets.UTF_8).length, llamaBytes);
    }

    @Test
    void decoderEmitsEachCharacterExactlyWhenComplete() {
        int e2 = stories.tokenId("<0xE2>");
        int x82 = stories.tokenId("<0x82>");
        int xac = stories.tokenId("<0xAC>");
        TokenDecoder d = stories.newDecoder();
        assertEquals("", d.push(e2));
        assertEquals("", d.push(x82));
        assertEquals("€", d.push(xac));
        assertEquals("", d.push(e2));
        assertEquals("\uFFFD", d.flush(), "an unfinished character at the end is replaced, not lost silently");
        assertEquals("", d.flush());
    }

    @Test
    void decoderDoesNotHoldInvalidBytesForever() {
        int cont = stories.tokenId("<0x82>");
        int a = stories.tokenId("<0x41>");
        TokenDecoder d = stories.newDecoder();
        assertEquals("\uFFFD", d.push(cont), "a stray continuation byte cannot become valid later");
        int e2 = stories.tokenId("<0xE2>");
        assertEquals("", d.push(e2));
        assertEquals("\uFFFDA", d.push(a), "an interrupted sequence is replaced once the next character starts");
    }

    @Test
    void specialTokensAreParsedOnlyWhenAsked() throws IOException {
        Tokenizer phi3 = vocab("phi-3");
        String prompt = "<|user|>\nHello<|end|>\n<|assistant|>";
        int[] parsed = phi3.encode(prompt, false, true);
        assertEquals(32010, parsed[0], "<|user|>");
        assertTrue(Arrays.stream(parsed).anyMatch(t -> t == 32007), "<|end|>: " + Arrays.toString(parsed));
        assertEquals(32001, parsed[parsed.length - 1], "<|assistant|>");
        int[] plain = phi3.encode(prompt, false, false);
        assertTrue(Arrays.stream(plain).noneMatch(t -> t >= 32000), "as text: " + Arrays.toString(plain));
        // phi-3 special tokens strip the whitespace after them (llama.cpp's RSTRIP for Phi-3): the "\n" is eaten
        int[] withoutNewline = phi3.encode("<|user|>Hello", false, true);
        assertArrayEquals(withoutNewline, Arrays.copyOf(parsed, withoutNewline.length));
        // control tokens decode to nothing; the first one consumed the leading-space removal (as llama.cpp)
        assertEquals(" Hello\n", phi3.decode(phi3.encode("<|user|>Hello\n<|end|>", false, true)));
    }

    @Test
    void endOfGenerationTokensFollowLlamaCpp() throws IOException {
        Tokenizer phi3 = vocab("phi-3");
        assertTrue(phi3.isEndOfGeneration(32000), "<|endoftext|> (EOS)");
        assertTrue(phi3.isEndOfGeneration(32007), "<|end|>");
        assertFalse(phi3.isEndOfGeneration(32010), "<|user|>");
        assertFalse(phi3.isEndOfGeneration(2), "</s> is user-defined in this file, not EOS");
        Tokenizer gpt2 = vocab("gpt-2");
        assertTrue(gpt2.isEndOfGeneration(50256));
        assertEquals(50256, gpt2.eos());
        assertEquals(50256, gpt2.eot(), "found by its text <|endoftext|>");
        Tokenizer deepseek = vocab("deepseek-coder");
        assertTrue(deepseek.isEndOfGeneration(32014), "<｜end▁of▁sentence｜> (EOS)");
        assertTrue(deepseek.addsBos());
        assertEquals(32013, deepseek.encode("x", true, false)[0]);
    }

    @Test
    void byteLevelBpeDecodesBackToTheText() throws IOException {
        for (String name : List.of("gpt-2", "deepseek-coder", "mpt", "refact")) {
            Tokenizer t = vocab(name);
            String text = "Hello, y'all! How are you 😁 ?我想在apple工作1314151天～\n\tnaïve   spaces";
            StringBuilder streamed = new StringBuilder();
            TokenDecoder d = t.newDecoder();
            for (int id : t.encode(text, false, false)) {
                streamed.append(d.push(id));
            }
            streamed.append(d.flush());
            assertEquals(text, streamed.toString(), name);
        }
    }

    @Test
    void cleanSpacesFollowsLlamaCpp() {
        // pass 1 removes the space before , ! (and ? .); pass 2 turns " ' " into "'"; pass 3 joins 's 'm 're 've
        assertEquals("Hello, world! It's'x' isn't", clean("Hello , world ! It 's ' x' isn't"));
        assertEquals("a'b", clean("a ' b"));
        assertEquals("you're, they 'll 'd", clean("you 're , they 'll 'd"));
        assertEquals("", clean(""));
    }

    private static String clean(String s) {
        return new String(Tokenizer.cleanSpaces(s.getBytes(StandardCharsets.UTF_8)), StandardCharsets.UTF_8);
    }

    @Test
    void unsupportedTokenizerModelIsRefusedWithFileModelAndAlternatives(@TempDir Path dir) throws IOException {
        Path t5 = writeVocabOnlyGguf(dir.resolve("t5-vocab.gguf"), "t5", "");
        try (GgufFile f = GgufFile.open(t5)) {
            IOException e = assertThrows(IOException.class, () -> Tokenizer.fromGguf(f));
            assertTrue(e.getMessage().contains(t5.toString()), e.getMessage());
            assertTrue(e.getMessage().contains("'t5'"), e.getMessage());
            assertTrue(e.getMessage().contains("'llama'") && e.getMessage().contains("'gpt2'")
                    && e.getMessage().contains("'bert'"), e.getMessage());
        }
    }

    @Test
    void unknownPreTokenizerIsRefusedListingTheKnownOnes(@TempDir Path dir) throws IOException {
        Path file = writeVocabOnlyGguf(dir.resolve("odd-pre.gguf"), "gpt2", "my-new-pre");
        try (GgufFile f = GgufFile.open(file)) {
            IOException e = assertThrows(IOException.class, () -> Tokenizer.fromGguf(f));
            assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("'my-new-pre'")
                    && e.getMessage().contains("llama3") && e.getMessage().contains("qwen2"), e.getMessage());
        }
    }

    private static Path writeVocabOnlyGguf(Path path, String model, String pre) throws IOException {
        return writeVocabOnlyGguf(path, model, pre, new String[]{"a", "b", "ab"});
    }

    /** A metadata-only GGUF v3 file: tokenizer model, optional pre-tokenizer, the tokens, one merge. */
    private static Path writeVocabOnlyGguf(Path path, String model, String pre, String[] tokens) throws IOException {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4096).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.putInt(0x46554747).putInt(3).putLong(0).putLong(pre.isEmpty() ? 3 : 4);
        putString(b, "tokenizer.ggml.model");
        b.putInt(8);
        putString(b, model);
        if (!pre.isEmpty()) {
            putString(b, "tokenizer.ggml.pre");
            b.putInt(8);
            putString(b, pre);
        }
        putString(b, "tokenizer.ggml.tokens");
        b.putInt(9).putInt(8).putLong(tokens.length);
        for (String t : tokens) putString(b, t);
        putString(b, "tokenizer.ggml.merges");
        b.putInt(9).putInt(8).putLong(1);
        putString(b, "a b");
        bytes.write(b.array(), 0, b.position());
        java.nio.file.Files.write(path, bytes.toByteArray());
        return path;
    }

    private static void putString(java.nio.ByteBuffer b, String s) {
        byte[] u = s.getBytes(StandardCharsets.UTF_8);
        b.putLong(u.length).put(u);
    }

    @Test
    void harmonyEndTokenEndsAMessageNotTheGeneration(@TempDir Path dir) throws IOException {
        // gpt-oss: with <|return|> and <|call|> present, llama.cpp takes <|end|> off the end-of-generation list
        String[] tokens = {"a", "b", "ab", "<|return|>", "<|call|>", "<|end|>", "<|channel|>", "<|im_end|>"};
        Path file = writeVocabOnlyGguf(dir.resolve("harmony.gguf"), "gpt2", "gpt-4o", tokens);
        try (GgufFile f = GgufFile.open(file)) {
            Tokenizer t = Tokenizer.fromGguf(f);
            assertTrue(t.isEndOfGeneration(3) && t.isEndOfGeneration(4) && t.isEndOfGeneration(7));
            assertFalse(t.isEndOfGeneration(5), "<|end|>");
            assertEquals("<|end|><|channel|>", new String(t.tokenBytes(5), StandardCharsets.UTF_8)
                    + new String(t.tokenBytes(6), StandardCharsets.UTF_8), "rendered as text");
            assertEquals(0, t.tokenBytes(3).length, "<|return|> is control");
            assertArrayEquals(new int[]{2, 6, 0}, t.encode("ab<|channel|>a", false, false),
                    "user-defined tokens are found even without parseSpecial");
        }
    }

    @Test
    void bertWordPieceAddsClsAndSep() throws IOException {
        Tokenizer bert = vocab("bert-bge");
        assertArrayEquals(new int[]{101, 7592, 2088, 102}, bert.encode("Hello world", true, false));
        // lower-cased, accents dropped (first code point of the NFD), whitespace runs split once
        assertArrayEquals(new int[]{7592, 2088}, bert.encode("HELLO  wörld", false, false));
        assertEquals(" hello world", bert.decode(bert.encode("Hello world", false, false)));
        assertArrayEquals(new int[]{101}, bert.encode("[CLS]", false, true));
    }

    @Test
    void tokenIdsOutOfRangeAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> stories.tokenBytes(512));
        assertThrows(IllegalArgumentException.class, () -> stories.decode(new int[]{-1}));
    }

    @Test
    void testVectorFormatMatchesLlamaCppOutFiles() {
        assertEquals(" 15043 3186", TokenizerTestVectors.formatIds(new int[]{15043, 3186}));
        assertEquals("", TokenizerTestVectors.formatIds(new int[0]));
        assertEquals(List.of("a", "", "b\nc"), TokenizerTestVectors.parseInputs(
                "a\n__ggml_vocab_test__\n\n__ggml_vocab_test__\nb\nc\n__ggml_vocab_test__\n"));
    }
}
