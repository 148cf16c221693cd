package dev.bunshin.engine.tokenizer;

import java.util.Arrays;

/**
 * GPT-2's reversible byte ↔ unicode mapping (llama.cpp's {@code unicode_byte_to_utf8_map}): printable Latin-1 bytes
 * ({@code !..~}, {@code ¡..¬}, {@code ®..ÿ}) map to themselves, the other 68 bytes to U+0100.. in byte order, so that
 * every byte-level BPE token is a printable string.
 */
final class ByteUnicode {
    private ByteUnicode() {}

    private static final int[] BYTE_TO_CP = new int[256];
    private static final int[] CP_TO_BYTE = new int[0x200]; // -1 where no byte maps to the code point

    static {
        Arrays.fill(CP_TO_BYTE, -1);
        boolean[] direct = new boolean[256];
        for (int b = 0x21; b <= 0x7E; b++) direct[b] = true;
        for (int b = 0xA1; b <= 0xAC; b++) direct[b] = true;
        for (int b = 0xAE; b <= 0xFF; b++) direct[b] = true;
        int n = 0;
        for (int b = 0; b < 256; b++) {
            BYTE_TO_CP[b] = direct[b] ? b : 256 + n++;
            CP_TO_BYTE[BYTE_TO_CP[b]] = b;
        }
    }

    /** The byte a code point stands for, or -1 if it is not one of the 256 mapped code points. */
    static int codepointToByte(int cp) {
        return cp >= 0 && cp < CP_TO_BYTE.length ? CP_TO_BYTE[cp] : -1;
    }

    /** Each UTF-8 byte of {@code utf8} as its mapped code point. */
    static String encode(byte[] utf8) {
        StringBuilder sb = new StringBuilder(utf8.length);
        for (byte b : utf8) {
            sb.appendCodePoint(BYTE_TO_CP[b & 0xFF]);
        }
        return sb.toString();
    }
}
