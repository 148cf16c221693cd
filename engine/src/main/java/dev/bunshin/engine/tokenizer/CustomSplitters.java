package dev.bunshin.engine.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * Hand-written equivalents of the two most used pre-tokenizer regexes, following llama.cpp's
 * {@code unicode_regex_split_custom_gpt2} / {@code _llama3} step by step (including where they differ from a regex
 * engine in corner cases: llama.cpp's behaviour is the reference). Each splits the pieces of a text, given as
 * code points and piece lengths, into word lengths.
 */
final class CustomSplitters {
    private CustomSplitters() {}

    interface Splitter {
        void split(int[] cps, int ini, int end, List<Integer> out);
    }

    static List<Integer> splitEach(int[] cps, List<Integer> lengths, Splitter splitter) {
        List<Integer> out = new ArrayList<>(lengths.size() * 2);
        int start = 0;
        for (int len : lengths) {
            splitter.split(cps, start, start + len, out);
            start += len;
        }
        return out;
    }

    private static final int OUT_OF_RANGE = -1;

    /** The piece [ini, end) of the text, as the splitters see it: nothing outside it. */
    private record Piece(int[] cps, int ini, int end) {
        int cp(int pos) {
            return pos >= ini && pos < end ? cps[pos] : OUT_OF_RANGE;
        }

        int flags(int pos) {
            return pos >= ini && pos < end ? CodepointFlags.of(cps[pos]) : CodepointFlags.NONE;
        }
    }

    private static boolean letter(int f) {
        return CodepointFlags.is(f, CodepointFlags.LETTER);
    }

    private static boolean number(int f) {
        return CodepointFlags.is(f, CodepointFlags.NUMBER);
    }

    private static boolean space(int f) {
        return CodepointFlags.is(f, CodepointFlags.WHITESPACE);
    }

    /** {@code [^\s\p{L}\p{N}]} on flags: anything inside the piece that is not whitespace, letter or number. */
    private static boolean other(int f) {
        return !(space(f) || letter(f) || number(f)) && f != CodepointFlags.NONE;
    }

    /** Length of a contraction ('s 't 're 've 'm 'll 'd) at pos, 0 if none; {@code anyCase} for Llama 3's (?i:). */
    private static int contraction(Piece p, int pos, boolean anyCase) {
        if (p.cp(pos) != '\'' || pos + 1 >= p.end()) {
            return 0;
        }
        int c1 = anyCase ? lower(p.cp(pos + 1)) : p.cp(pos + 1);
        if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') {
            return 2;
        }
        if (pos + 2 < p.end()) {
            int c2 = anyCase ? lower(p.cp(pos + 2)) : p.cp(pos + 2);
            if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) {
                return 3;
            }
        }
        return 0;
    }

    private static int lower(int cp) {
        return cp < 0 ? cp : Character.toLowerCase(cp);
    }

    /** GPT-2: {@code 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+}. */
    static void gpt2(int[] cps, int ini, int end, List<Integer> out) {
        Piece p = new Piece(cps, ini, end);
        int pos = ini;
        int prevEnd = ini;
        while (pos < end) {
            int cp = p.cp(pos);
            int flags = p.flags(pos);
            int c = contraction(p, pos, false);
            if (c > 0) {
                pos += c;
                prevEnd = emit(out, prevEnd, pos);
                continue;
            }
            int f2 = cp == ' ' ? p.flags(pos + 1) : flags;
            if (letter(f2)) {
                if (cp == ' ') pos++;
                while (letter(f2)) f2 = p.flags(++pos);
                prevEnd = emit(out, prevEnd, pos);
                continue;
            }
            if (number(f2)) {
                if (cp == ' ') pos++;
                while (number(f2)) f2 = p.flags(++pos);
                prevEnd = emit(out, prevEnd, pos);
                continue;
            }
            if (other(f2)) {
                if (cp == ' ') pos++;
                while (other(f2)) f2 = p.flags(++pos);
                prevEnd = emit(out, prevEnd, pos);
                continue;
            }
            int nWs = 0;
            while (space(p.flags(pos + nWs))) nWs++;
            if (nWs > 1 && p.cp(pos + nWs) != OUT_OF_RANGE) {
                // \s+(?!\S): leave the last whitespace to prefix the next word
                pos += nWs - 1;
                prevEnd = emit(out, prevEnd, pos);
                continue;
            }
            if (nWs > 0) {
                pos += nWs;
                prevEnd = emit(out, prevEnd, pos);
                continue;
            }
            prevEnd = emit(out, prevEnd, ++pos);
        }
    }

    /**
     * Llama 3: {@code (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*
     * |\s*[\r\n]+|\s+(?!\S)|\s+}.
     */
    static void llama3(int[] cps, int ini, int end, List<Integer> out) {
        Piece p = new Piece(cps, ini, end);
        int pos = ini;
        int prevEnd = ini;
        while (pos < end) {
            int cp = p.cp(pos);
            int flags = p.flags(pos);
            int c = contraction(p, pos, true);
            if (c > 0) {
                pos += c;
                prevEnd = emit(out, prevEnd, pos);
                continue;
            }
            if (!(cp == '\r' || cp == '\n' || number(flags))) {
                if (letter(flags) || letter(p.flags(pos + 1))) {
                    pos++;
                    while (letter(p.flags(pos))) pos++;
                    prevEnd = emit(out, prevEnd, pos);
                    continue;
                }
            }
            if (number(flags)) {
                int groupStart = pos;
                while (number(p.flags(pos))) {
                    if (++pos - groupStart >= 3) {
                        prevEnd = emit(out, prevEnd, pos);
                        groupStart = pos;
                    }
                }
                prevEnd = emit(out, prevEnd, pos);
                continue;
            }
            int f2 = cp == ' ' ? p.flags(pos + 1) : flags;
            // llama.cpp tests the current code point's flags (not f2) for being inside the piece here
            if (!(space(f2) || letter(f2) || number(f2)) && flags != CodepointFlags.NONE) {
                if (cp == ' ') pos++;
                while (other(f2)) f2 = p.flags(++pos);
                int cp2 = p.cp(pos);
                while (cp2 == '\r' || cp2 == '\n') cp2 = p.cp(++pos);
                prevEnd = emit(out, prevEnd, pos);
                continue;
            }
            int nWs = 0;
            int lastEndOfNewline = 0;
            while (space(p.flags(pos + nWs))) {
                int cp2 = p.cp(pos + nWs);
                if (cp2 == '\r' || cp2 == '\n') {
                    lastEndOfNewline = pos + nWs + 1;
                }
                nWs++;
            }
            if (lastEndOfNewline > 0) {
                pos = lastEndOfNewline;
                prevEnd = emit(out, prevEnd, pos);
                continue;
            }
            if (nWs > 1 && p.cp(pos + nWs) != OUT_OF_RANGE) {
                pos += nWs - 1;
                prevEnd = emit(out, prevEnd, pos);
                continue;
            }
            if (nWs > 0) {
                pos += nWs;
                prevEnd = emit(out, prevEnd, pos);
                continue;
            }
            prevEnd = emit(out, prevEnd, ++pos);
        }
    }

    private static int emit(List<Integer> out, int prevEnd, int end) {
        if (end > prevEnd) {
            out.add(end - prevEnd);
        }
        return end;
    }
}
