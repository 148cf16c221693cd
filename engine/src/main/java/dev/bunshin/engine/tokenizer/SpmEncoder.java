package dev.bunshin.engine.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.PriorityQueue;

/**
 * SentencePiece-style BPE over a vocabulary with scores (llama.cpp's {@code llm_tokenizer_spm}): start from single
 * characters, repeatedly merge the adjacent pair whose concatenation is the highest-scoring token (leftmost on ties),
 * then emit each symbol as its token, or as byte tokens ({@code <0xXX>}) when it is not in the vocabulary.
 */
final class SpmEncoder {

    private final Vocab vocab;

    SpmEncoder(Vocab vocab) {
        this.vocab = vocab;
    }

    private record Bigram(int left, int right, float score, int size) {}

    /** Appends the tokens of {@code text} (whitespace already escaped to ▁) to {@code out}. */
    void encode(String text, IntList out) {
        int[] cps = text.codePoints().toArray();
        int n = cps.length;
        if (n == 0) {
            return;
        }
        // symbols as a linked list over char ranges of text
        int[] start = new int[n];
        int[] len = new int[n];   // in chars; 0 once merged into its left neighbour
        int[] prev = new int[n];
        int[] next = new int[n];
        int off = 0;
        for (int i = 0; i < n; i++) {
            start[i] = off;
            len[i] = Character.charCount(cps[i]);
            off += len[i];
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        PriorityQueue<Bigram> queue = new PriorityQueue<>((a, b) -> a.score != b.score
                ? Float.compare(b.score, a.score) : Integer.compare(a.left, b.left));
        for (int i = 1; i < n; i++) {
            tryAddBigram(text, start, len, i - 1, i, queue);
        }
        while (!queue.isEmpty()) {
            Bigram bg = queue.poll();
            // stale if either side was merged away or grew since the pair was queued
            if (len[bg.left] == 0 || len[bg.right] == 0 || len[bg.left] + len[bg.right] != bg.size) {
                continue;
            }
            len[bg.left] += len[bg.right];
            len[bg.right] = 0;
            next[bg.left] = next[bg.right];
            if (next[bg.right] >= 0) {
                prev[next[bg.right]] = bg.left;
            }
            tryAddBigram(text, start, len, prev[bg.left], bg.left, queue);
            tryAddBigram(text, start, len, bg.left, next[bg.left], queue);
        }
        for (int i = 0; i != -1; i = next[i]) {
            String s = text.substring(start[i], start[i] + len[i]);
            int id = vocab.id(s);
            if (id != Vocab.NULL) {
                out.add(id);
            } else {
                for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
                    out.add(byteToken(b & 0xFF));
                }
            }
        }
    }

    private void tryAddBigram(String text, int[] start, int[] len, int left, int right, PriorityQueue<Bigram> queue) {
        if (left == -1 || right == -1) {
            return;
        }
        int size = len[left] + len[right];
        int id = vocab.id(text.substring(start[left], start[left] + size));
        if (id == Vocab.NULL) {
            return;
        }
        queue.add(new Bigram(left, right, vocab.score[id], size));
    }

    /** The {@code <0xXX>} token of a byte; else the byte as a one-character token; else the unknown token. */
    int byteToken(int b) {
        int id = vocab.id(String.format("<0x%02X>", b));
        if (id == Vocab.NULL && b < 0x80) {
            id = vocab.id(String.valueOf((char) b));
        }
        return id != Vocab.NULL ? id : vocab.unk;
    }
}
