package dev.bunshin.engine.tokenizer;

/**
 * Unicode category flags of a code point, as llama.cpp's {@code unicode_cpt_flags}: one bit per top-level general
 * category ({@code \p{N}}, {@code \p{L}}, {@code \p{Z}}, {@code \p{M}}, {@code \p{P}}, {@code \p{S}}, {@code \p{C}})
 * plus a whitespace bit ({@code White_Space}). Unassigned code points count as {@code \p{C}}, as in llama.cpp's
 * generated table. Positions outside the text have flags 0 ({@link #NONE}), which matters to the splitters.
 */
final class CodepointFlags {
    private CodepointFlags() {}

    static final int NONE = 0;
    static final int UNDEFINED = 0x0001;
    static final int NUMBER = 0x0002;
    static final int LETTER = 0x0004;
    static final int SEPARATOR = 0x0008;
    static final int ACCENT_MARK = 0x0010;
    static final int PUNCTUATION = 0x0020;
    static final int SYMBOL = 0x0040;
    static final int CONTROL = 0x0080;
    static final int MASK_CATEGORIES = 0x00FF;
    static final int WHITESPACE = 0x0100;

    private static final int MAX_CODEPOINT = 0x10FFFF;

    /** Flags of {@code cp}; {@link #UNDEFINED} for values outside Unicode. */
    static int of(int cp) {
        if (cp < 0 || cp > MAX_CODEPOINT) {
            return UNDEFINED;
        }
        int flags = category(cp);
        if (isWhitespace(cp)) {
            flags |= WHITESPACE;
        }
        return flags;
    }

    static boolean is(int flags, int bit) {
        return (flags & bit) != 0;
    }

    private static int category(int cp) {
        return switch (Character.getType(cp)) {
            case Character.UPPERCASE_LETTER, Character.LOWERCASE_LETTER, Character.TITLECASE_LETTER,
                 Character.MODIFIER_LETTER, Character.OTHER_LETTER -> LETTER;
            case Character.DECIMAL_DIGIT_NUMBER, Character.LETTER_NUMBER, Character.OTHER_NUMBER -> NUMBER;
            case Character.SPACE_SEPARATOR, Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR -> SEPARATOR;
            case Character.NON_SPACING_MARK, Character.ENCLOSING_MARK, Character.COMBINING_SPACING_MARK -> ACCENT_MARK;
            case Character.DASH_PUNCTUATION, Character.START_PUNCTUATION, Character.END_PUNCTUATION,
                 Character.CONNECTOR_PUNCTUATION, Character.OTHER_PUNCTUATION, Character.INITIAL_QUOTE_PUNCTUATION,
                 Character.FINAL_QUOTE_PUNCTUATION -> PUNCTUATION;
            case Character.MATH_SYMBOL, Character.CURRENCY_SYMBOL, Character.MODIFIER_SYMBOL,
                 Character.OTHER_SYMBOL -> SYMBOL;
            default -> CONTROL; // Cc, Cf, Co, Cs, Cn
        };
    }

    /** Unicode's White_Space property (what Python's {@code regex} module calls {@code \s}). */
    static boolean isWhitespace(int cp) {
        return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680
                || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F
                || cp == 0x3000;
    }
}
