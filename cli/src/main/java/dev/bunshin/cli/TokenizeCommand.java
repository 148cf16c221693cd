package dev.bunshin.cli;

import dev.bunshin.models.catalog.ModelCatalog;
import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.engine.tokenizer.Tokenizer;
import dev.bunshin.engine.tokenizer.TokenizerTestVectors;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * {@code ./bunshin tokenize --model MODEL --vectors FILE}: llama.cpp's tokenizer test vectors ({@code .inp}: inputs
 * separated by {@code \n__ggml_vocab_test__\n}) → one line of ids per input, formatted like the matching
 * {@code .out} file, so {@code diff} against it checks the tokenizer. Tokenized as llama.cpp's test does: no
 * BOS/EOS, special-token text not parsed.
 */
final class TokenizeCommand {
    private TokenizeCommand() {}

    static int run(String[] argv, PrintStream out, PrintStream err) throws Exception {
        Args a = Args.parse("tokenize", argv, ModelArgs.with("model", "vectors"), Set.of());
        a.noMorePositional(0);
        String model = a.require("model");
        Path vectors = Path.of(a.require("vectors"));
        if (!Files.isRegularFile(vectors)) {
            throw new UsageException("tokenize: option --vectors: no such file " + vectors);
        }
        List<String> inputs = TokenizerTestVectors.readInputs(vectors);
        ModelCatalog.Entry e = ModelArgs.resolve(a, model);
        try (GgufFile f = GgufFile.open(e.path())) {
            Tokenizer t = Tokenizer.fromGguf(f);
            for (String line : TokenizerTestVectors.tokenizeLines(t, inputs)) {
                out.println(line);
            }
        }
        err.println(inputs.size() + " inputs tokenized");
        return 0;
    }
}
