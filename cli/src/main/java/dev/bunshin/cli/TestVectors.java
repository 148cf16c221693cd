package dev.bunshin.cli;

import java.util.ArrayList;
import java.util.List;

/** The format of llama.cpp's tokenizer test vectors ({@code models/ggml-vocab-*.gguf.inp|.out}). */
final class TestVectors {
    private TestVectors() {}

    static final String SEPARATOR = "\n__ggml_vocab_test__\n";

    /** The inputs of an {@code .inp} file: each one is followed by the separator. */
    static List<String> parseInputs(String inp) {
        List<String> out = new ArrayList<>();
        int from = 0;
        while (true) {
            int at = inp.indexOf(SEPARATOR, from);
            if (at < 0) break;
            out.add(inp.substring(from, at));
            from = at + SEPARATOR.length();
        }
        if (from < inp.length()) out.add(inp.substring(from)); // a last input without a separator
        return out;
    }

    /** {@code [1, 2]} → {@code " 1 2"}: each id preceded by a space, as the .out files have them. */
    static String formatIds(int[] ids) {
        StringBuilder sb = new StringBuilder();
        for (int id : ids) sb.append(' ').append(id);
        return sb.toString();
    }
}
