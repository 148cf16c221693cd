package dev.bunshin.engine.tokenizer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * llama.cpp's tokenizer test vectors ({@code models/ggml-vocab-*.gguf.inp} / {@code .out}): the {@code .inp} file
 * holds inputs each followed by {@code "\n__ggml_vocab_test__\n"}; the {@code .out} file one line per input, each
 * id preceded by a space (an empty input gives an empty line). llama.cpp's {@code test-tokenizer-0} tokenizes each
 * input with {@code add_special = false, parse_special = false}.
 */
public final class TokenizerTestVectors {
    private TokenizerTestVectors() {}

    public static final String SEPARATOR = "\n__ggml_vocab_test__\n";

    /** The inputs of a {@code .inp} file's content, in order. */
    public static List<String> parseInputs(String content) {
        List<String> inputs = new ArrayList<>();
        int pos = 0;
        while (pos < content.length()) {
            int next = content.indexOf(SEPARATOR, pos);
            if (next < 0) {
                inputs.add(content.substring(pos));
                break;
            }
            inputs.add(content.substring(pos, next));
            pos = next + SEPARATOR.length();
        }
        return inputs;
    }

    /** The inputs of a {@code .inp} file (UTF-8). */
    public static List<String> readInputs(Path inp) throws IOException {
        return parseInputs(Files.readString(inp, StandardCharsets.UTF_8));
    }

    /** The expected ids of a {@code .out} file, one array per line. */
    public static List<int[]> readExpected(Path out) throws IOException {
        List<int[]> expected = new ArrayList<>();
        for (String line : Files.readAllLines(out, StandardCharsets.UTF_8)) {
            String s = line.strip();
            expected.add(s.isEmpty() ? new int[0] : Arrays.stream(s.split(" ")).mapToInt(Integer::parseInt).toArray());
        }
        return expected;
    }

    /** One {@code .out} line: each id preceded by a space, e.g. {@code " 15043 3186"}; "" for no ids. */
    public static String formatIds(int[] ids) {
        StringBuilder sb = new StringBuilder();
        for (int id : ids) {
            sb.append(' ').append(id);
        }
        return sb.toString();
    }

    /** Tokenizes each input as test-tokenizer-0 does and formats it as a {@code .out} line. */
    public static List<String> tokenizeLines(Tokenizer tokenizer, List<String> inputs) {
        return inputs.stream().map(s -> formatIds(tokenizer.encode(s, false, false))).toList();
    }
}
