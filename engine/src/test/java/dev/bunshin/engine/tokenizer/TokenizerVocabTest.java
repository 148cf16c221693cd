package dev.bunshin.engine.tokenizer;

import dev.bunshin.engine.TestModels;
import dev.bunshin.engine.gguf.GgufFile;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** llama.cpp's own tokenizer test vectors (test-tokenizer-0): every input must give exactly the expected ids. */
class TokenizerVocabTest {

    @ParameterizedTest
    @ValueSource(strings = {"llama-spm", "phi-3", "gpt-2", "deepseek-coder", "mpt", "refact", "bert-bge"})
    void matchesLlamaCppTestVectors(String name) throws IOException {
        Path gguf = TestModels.require("vocab/ggml-vocab-" + name + ".gguf");
        List<String> inputs = TokenizerTestVectors.readInputs(Path.of(gguf + ".inp"));
        List<int[]> expected = TokenizerTestVectors.readExpected(Path.of(gguf + ".out"));
        assertEquals(expected.size(), inputs.size(), "inputs vs expected lines in " + gguf);
        try (GgufFile file = GgufFile.open(gguf)) {
            Tokenizer tokenizer = Tokenizer.fromGguf(file);
            List<String> failures = new ArrayList<>();
            for (int i = 0; i < inputs.size(); i++) {
                String want = TokenizerTestVectors.formatIds(expected.get(i));
                String got = TokenizerTestVectors.formatIds(tokenizer.encode(inputs.get(i), false, false));
                if (!want.equals(got)) {
                    failures.add("#" + i + " '" + inputs.get(i).replace("\n", "\\n") + "'\n   want" + want
                            + "\n   got " + got + "\n   words " + tokenizer.preTokenize(inputs.get(i)));
                }
            }
            assertTrue(failures.isEmpty(), name + ": " + failures.size() + " of " + inputs.size()
                    + " inputs differ:\n" + String.join("\n", failures));
            // what `bunshin tokenize --vectors` prints must be the .out file, byte for byte
            assertEquals(Files.readAllLines(Path.of(gguf + ".out"), StandardCharsets.UTF_8),
                    TokenizerTestVectors.tokenizeLines(tokenizer, inputs));
        }
    }
}
