package dev.bunshin.cli;

import dev.bunshin.engine.TestModels;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import dev.bunshin.models.gguf.GgufWriter;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TokenizeCommandTest {

    /** {@code ./bunshin tokenize} prints exactly llama.cpp's expected .out file. */
    @ParameterizedTest
    @ValueSource(strings = {"llama-spm", "phi-3", "gpt-2", "deepseek-coder", "mpt", "refact", "bert-bge"})
    void printsTheExpectedOutFile(String vocab) throws Exception {
        Path model = TestModels.require("vocab/ggml-vocab-" + vocab + ".gguf");
        Path inp = Path.of(model + ".inp");
        String expected = Files.readString(Path.of(model + ".out"), StandardCharsets.UTF_8);
        Cli r = Cli.run("tokenize", "--model", model.toString(), "--vectors", inp.toString());
        assertEquals(0, r.status(), r.err());
        assertEquals(expected, r.out());
    }

    @Test
    void unsupportedTokenizerIsNamed(@TempDir Path tmp) throws Exception {
        Path model = tmp.resolve("t5-vocab.gguf");
        new GgufWriter().putString("general.architecture", "t5").putString("tokenizer.ggml.model", "t5")
                .putArray("tokenizer.ggml.tokens", GgufWriter.ValueType.STRING, new String[]{"<pad>", "</s>", "<unk>"})
                .write(model);
        Path inp = Files.writeString(tmp.resolve("t5.inp"), "hello\n__ggml_vocab_test__\n");
        Cli r = Cli.run("tokenize", "--model", model.toString(), "--vectors", inp.toString());
        assertEquals(1, r.status(), r.toString());
        assertTrue(r.err().contains("t5"), r.toString());
    }

    @Test
    void missingVectorsFileIsNamed() {
        Cli r = Cli.run("tokenize", "--model", TestModels.stories260K().toString(), "--vectors", "/nonexistent.inp");
        assertEquals(2, r.status(), r.toString());
        assertTrue(r.err().contains("--vectors: no such file /nonexistent.inp"), r.toString());
    }
}
