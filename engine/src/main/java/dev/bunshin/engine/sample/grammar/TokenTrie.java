package dev.bunshin.engine.sample.grammar;

import dev.bunshin.engine.tokenizer.Tokenizer;

import java.util.Arrays;

/**
 * A vocabulary's token bytes in a trie, built once per tokenizer: tokens that share a prefix share its path, so a
 * mask walks each prefix once ({@link TokenConstraint#mask}). Flat arrays, node 0 the root. Also which tokens end
 * generation, and each token's bytes for the one-token check.
 */
public final class TokenTrie {

    /** Per token: the bytes it stands for (empty for control tokens). // [nVocab][] */
    final byte[][] bytes;
    /** The tokens that end generation (EOS, EOT, …), ascending. */
    final int[] endOfGeneration;
    /** Per node: first child, next sibling (-1: none), the byte on the edge into it. // [nNodes] */
    final int[] firstChild;
    final int[] nextSibling;
    final byte[] label;
    /** Per node: the first token whose bytes end here (-1: none); per token: the next such token. */
    final int[] firstToken;
    final int[] nextToken; // [nVocab]

    private TokenTrie(byte[][] bytes, int[] endOfGeneration, int[] firstChild, int[] nextSibling, byte[] label,
                      int[] firstToken, int[] nextToken) {
        this.bytes = bytes;
        this.endOfGeneration = endOfGeneration;
        this.firstChild = firstChild;
        this.nextSibling = nextSibling;
        this.label = label;
        this.firstToken = firstToken;
        this.nextToken = nextToken;
    }

    /** The trie of a model's tokenizer (tens of milliseconds for a 150k vocabulary: build it once per model). */
    public static TokenTrie of(Tokenizer tokenizer) {
        int n = tokenizer.vocabSize();
        byte[][] bytes = new byte[n][];
        boolean[] eog = new boolean[n];
        for (int t = 0; t < n; t++) {
            bytes[t] = tokenizer.tokenBytes(t);
            eog[t] = tokenizer.isEndOfGeneration(t);
        }
        return of(bytes, eog);
    }

    /** The trie of token byte strings {@code bytes} ({@code endOfGeneration[t]}: token t ends generation). */
    public static TokenTrie of(byte[][] bytes, boolean[] endOfGeneration) {
        int n = bytes.length;
        int cap = 1024;
        int[] first = new int[cap], next = new int[cap], firstTok = new int[cap];
        byte[] label = new byte[cap];
        int nodes = 1;
        first[0] = next[0] = firstTok[0] = -1;
        int[] nextTok = new int[n];
        Arrays.fill(nextTok, -1);
        for (int t = 0; t < n; t++) {
            byte[] b = bytes[t];
            if (b.length == 0) continue;
            int node = 0;
            for (byte x : b) {
                int c = first[node];
                while (c != -1 && label[c] != x) c = next[c];
                if (c == -1) {
                    if (nodes == cap) {
                        cap *= 2;
                        first = Arrays.copyOf(first, cap);
                        next = Arrays.copyOf(next, cap);
                        firstTok = Arrays.copyOf(firstTok, cap);
                        label = Arrays.copyOf(label, cap);
                    }
                    c = nodes++;
                    first[c] = firstTok[c] = -1;
                    label[c] = x;
                    next[c] = first[node];
                    first[node] = c;
                }
                node = c;
            }
            nextTok[t] = firstTok[node];
            firstTok[node] = t;
        }
        int ends = 0;
        for (boolean e : endOfGeneration) if (e) ends++;
        int[] eog = new int[ends];
        for (int t = 0, k = 0; t < n; t++) if (endOfGeneration[t]) eog[k++] = t;
        return new TokenTrie(bytes, eog, Arrays.copyOf(first, nodes), Arrays.copyOf(next, nodes),
                Arrays.copyOf(label, nodes), Arrays.copyOf(firstTok, nodes), nextTok);
    }

    public int vocabSize() {
        return bytes.length;
    }

    /** How many nodes the trie has (the root included). */
    public int nodeCount() {
        return firstChild.length;
    }

    boolean isEndOfGeneration(int token) {
        return Arrays.binarySearch(endOfGeneration, token) >= 0;
    }
}
