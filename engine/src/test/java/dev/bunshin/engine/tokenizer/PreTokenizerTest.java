package dev.bunshin.engine.tokenizer;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;

class PreTokenizerTest {

    private static final String TEXT = "Hello, y'all! How're you 😁 ?我想在apple工作1314151天～\n\n\t  naïve  ÀÉÎ 3.14 <tag>";

    private static List<String> split(String pre, String text) {
        return new PreTokenizer(PreTokenizer.spec(pre)).split(text);
    }

    @Test
    void everyKnownPreTokenizerSplitsWithoutLosingText() {
        for (String name : PreTokenizer.supportedNames()) {
            PreTokenizer.Spec spec = PreTokenizer.spec(name);
            assertNotNull(spec, name);
            List<String> words = split(name, TEXT);
            assertEquals(TEXT, String.join("", words), name + " must partition the text");
            assertFalse(words.stream().anyMatch(String::isEmpty), name + ": no empty words");
        }
    }

    @Test
    void gpt2KeepsTheSpaceBeforeAWordAndSplitsContractions() {
        assertEquals(List.of("Hello", ",", " you", "'ll", "!", "  ", " world"), split("gpt-2", "Hello, you'll!   world"));
        assertEquals(List.of(" y", "'", "all"), split("gpt-2", " y'all"), "'a is no contraction");
        // starcoder first cuts out every digit, then applies GPT-2's regex to the rest
        assertEquals(List.of("I", "'m", " ", "1", "2", "3", "4"), split("starcoder", "I'm 1234"));
    }

    @Test
    void llama3GroupsDigitsByThreeAndNewlinesTogether() {
        assertEquals(List.of("123", "456", "7", " abc", "\n\n", "def"), split("llama-bpe", "1234567 abc\n\ndef"));
        assertEquals(List.of("I", "'M", " fine"), split("llama-bpe", "I'M fine"), "case-insensitive contractions");
    }

    @Test
    void qwen2SplitsEveryDigit() {
        assertEquals(List.of("1", "2", "3", " x"), split("qwen2", "123 x"));
    }

    @Test
    void gpt4oKeepsContractionsOnTheWord() {
        assertEquals(List.of("I'm", " HTTPServer", " ok"), split("gpt-4o", "I'm HTTPServer ok"));
    }
}
