package dev.bunshin.engine.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Concatenates token bytes and emits the longest prefix that does not end inside a UTF-8 sequence; a character
 * split over byte-fallback tokens ({@code <0xE2><0x96><0x81>}) comes out whole once its last byte arrives.
 * Invalid bytes are emitted as U+FFFD rather than held back forever.
 */
final class Utf8TokenDecoder implements TokenDecoder {

    private final Tokenizer tokenizer;
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();

    Utf8TokenDecoder(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    @Override
    public String push(int token) {
        tokenizer.appendBytes(token, pending);
        byte[] b = pending.toByteArray();
        int complete = completePrefix(b);
        if (complete == 0) {
            return "";
        }
        pending.reset();
        pending.write(b, complete, b.length - complete);
        return new String(b, 0, complete, StandardCharsets.UTF_8);
    }

    @Override
    public String flush() {
        byte[] b = pending.toByteArray();
        pending.reset();
        return new String(b, StandardCharsets.UTF_8);
    }

    /** Length of the prefix of {@code b} that ends on a character boundary (an incomplete tail is held back). */
    static int completePrefix(byte[] b) {
        int n = b.length;
        // the last lead byte within the final 3 bytes decides whether the tail is an unfinished sequence
        for (int i = n - 1; i >= Math.max(0, n - 3); i--) {
            int c = b[i] & 0xFF;
            if ((c & 0xC0) == 0x80) {
                continue; // continuation byte: look further back for its lead
            }
            int need = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 && c < 0xF0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 1;
            return n - i < need ? i : n;
        }
        return n;
    }

    @Override
    public String toString() {
        return "Utf8TokenDecoder" + Arrays.toString(pending.toByteArray());
    }
}
