package dev.bunshin.engine.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;

/**
 * Byte-level BPE (llama.cpp's {@code llm_tokenizer_bpe}): the pre-tokenizer splits the text into words, each word
 * (byte-encoded) starts as single characters, and the adjacent pair with the lowest merge rank is merged until no
 * pair has a rank (leftmost on ties).
 */
final class BpeEncoder {

    private final Vocab vocab;
    private final PreTokenizer preTokenizer;

    BpeEncoder(Vocab vocab) {
        this.vocab = vocab;
        this.preTokenizer = new PreTokenizer(vocab.preSpec);
    }

    PreTokenizer preTokenizer() {
        return preTokenizer;
    }

    private record Bigram(int left, int right, String text, int rank) {}

    void encode(String text, IntList out) {
        for (String word : preTokenizer.splitEncoded(text)) {
            encodeWord(word, out);
        }
    }

    private void encodeWord(String word, IntList out) {
        if (vocab.ignoreMerges && vocab.id(word) != Vocab.NULL) {
            out.add(vocab.id(word));
            return;
        }
        int[] cps = word.codePoints().toArray();
        int n = cps.length;
        List<String> sym = new ArrayList<>(n); // null once merged into its left neighbour
        int[] prev = new int[n];
        int[] next = new int[n];
        for (int i = 0; i < n; i++) {
            sym.add(Character.toString(cps[i]));
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        PriorityQueue<Bigram> queue = new PriorityQueue<>((a, b) -> a.rank != b.rank
                ? Integer.compare(a.rank, b.rank) : Integer.compare(a.left, b.left));
        for (int i = 1; i < n; i++) {
            addBigram(sym, i - 1, i, queue);
        }
        while (!queue.isEmpty()) {
            Bigram bg = queue.poll();
            String l = sym.get(bg.left);
            String r = sym.get(bg.right);
            if (l == null || r == null || !(l + r).equals(bg.text)) {
                continue; // outdated
            }
            sym.set(bg.left, bg.text);
            sym.set(bg.right, null);
            next[bg.left] = next[bg.right];
            if (next[bg.right] >= 0) {
                prev[next[bg.right]] = bg.left;
            }
            addBigram(sym, prev[bg.left], bg.left, queue);
            addBigram(sym, bg.left, next[bg.left], queue);
        }
        for (int i = 0; i != -1 && i < n; i = next[i]) {
            String s = sym.get(i);
            int id = vocab.id(s);
            if (id != Vocab.NULL) {
                out.add(id);
            } else {
                // llama.cpp's fallback: each byte of the symbol as a one-byte token, where one exists
                for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
                    if (b >= 0) {
                        int bid = vocab.id(String.valueOf((char) b));
                        if (bid != Vocab.NULL) {
                            out.add(bid);
                        }
                    }
                }
            }
        }
    }

    private void addBigram(List<String> sym, int left, int right, PriorityQueue<Bigram> queue) {
        if (left == -1 || right == -1) {
            return;
        }
        String l = sym.get(left);
        String r = sym.get(right);
        int rank = vocab.rank(l, r);
        if (rank >= 0) {
            queue.add(new Bigram(left, right, l + r, rank));
        }
    }
}
