package dev.bunshin.engine.tokenizer;

import java.nio.charset.StandardCharsets;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;

/**
 * BERT's WordPiece as llama.cpp's {@code llm_tokenizer_wpm} runs it on a converted vocabulary (word-initial pieces
 * carry a ▁ prefix, continuation pieces have lost their {@code ##}): normalise (first code point of each
 * character's NFD, lower case, drop control characters), split on whitespace and around punctuation and CJK
 * characters, then cover each ▁word greedily with the longest pieces; a word that cannot be covered becomes the
 * unknown token.
 */
final class WpmEncoder {

    private final Vocab vocab;
    private final int maxTokenChars;

    WpmEncoder(Vocab vocab) {
        this.vocab = vocab;
        int max = 0;
        for (String t : vocab.text) {
            max = Math.max(max, t.getBytes(StandardCharsets.UTF_8).length);
        }
        this.maxTokenChars = max; // no token has more code points than bytes
    }

    void encode(String text, IntList out) {
        for (String word : words(text)) {
            int[] cps = ("\u2581" + word).codePoints().toArray();
            int n = cps.length;
            int before = out.size();
            IntList pieces = new IntList();
            boolean covered = true;
            for (int i = 0; i < n && covered; ) {
                covered = false;
                for (int j = Math.min(n, i + maxTokenChars); j > i; j--) {
                    int id = vocab.id(new String(cps, i, j - i));
                    if (id != Vocab.NULL) {
                        pieces.add(id);
                        i = j;
                        covered = true;
                        break;
                    }
                }
            }
            if (covered) {
                for (int k = 0; k < pieces.size(); k++) {
                    out.add(pieces.get(k));
                }
            }
            if (out.size() == before) {
                out.add(vocab.unk);
            }
        }
    }

    /** llama.cpp's {@code preprocess}: normalised words, punctuation and CJK characters as words of their own. */
    static List<String> words(String text) {
        List<String> words = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        text.codePoints().forEach(original -> {
            int cp = nfdFirst(original);
            int flags = CodepointFlags.of(cp);
            if (CodepointFlags.is(flags, CodepointFlags.WHITESPACE)) {
                finish(words, word);
                return;
            }
            if (cp == 0 || cp == 0xFFFD || CodepointFlags.is(flags, CodepointFlags.CONTROL)) {
                return;
            }
            int lower = Character.toLowerCase(cp);
            if (CodepointFlags.is(flags, CodepointFlags.PUNCTUATION)
                    || (cp < 0x7F && CodepointFlags.is(flags, CodepointFlags.SYMBOL)) || isChinese(cp)) {
                finish(words, word);
                words.add(Character.toString(lower));
            } else {
                word.appendCodePoint(lower);
            }
        });
        finish(words, word);
        return words;
    }

    private static void finish(List<String> words, StringBuilder word) {
        if (!word.isEmpty()) {
            words.add(word.toString());
            word.setLength(0);
        }
    }

    /** The first code point of the character's canonical decomposition (so accents are dropped). */
    private static int nfdFirst(int cp) {
        if (cp < 0xC0) {
            return cp;
        }
        return Normalizer.normalize(Character.toString(cp), Normalizer.Form.NFD).codePointAt(0);
    }

    /** CJK ideograph blocks, as BERT's {@code _is_chinese_char} (with its 0x2B920 quirk, as llama.cpp). */
    private static boolean isChinese(int cp) {
        return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF)
                || (cp >= 0x2A700 && cp <= 0x2B73F) || (cp >= 0x2B740 && cp <= 0x2B81F)
                || (cp >= 0x2B920 && cp <= 0x2CEAF) || (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
    }
}
