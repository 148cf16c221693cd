package dev.bunshin.engine.sample.grammar;

import dev.bunshin.engine.sample.Sampler;
import dev.bunshin.engine.sample.grammar.Automaton.State;

import java.util.Arrays;

/**
 * One job's structured-output constraint: where its text stands in the grammar, and which tokens may come next.
 * Not thread-safe (the tail's one thread).
 *
 * <p>Used the lazy way llama.cpp's server does: the sampler chooses from the model's distribution, {@link #allows}
 * checks that one token (its bytes through the automaton: a few array lookups), and only if it is refused does the
 * tail compute the whole {@link #mask} and choose again among the allowed tokens. The mask walks the vocabulary's
 * {@link TokenTrie} once, pruning every subtree whose prefix the grammar refuses; {@link #naiveMask} is the
 * reference it is tested against.
 *
 * <p>A token that ends generation (the model's end-of-generation tokens, or {@code extraEndTokens} such as a chat
 * template's end of turn) is allowed exactly when the text so far is a whole document. A token that renders as no
 * bytes (a control token) is never allowed otherwise: it would let the model stall without progress.
 */
public final class TokenConstraint {

    private final Automaton automaton;
    private final TokenTrie trie;
    private final int[] extraEndTokens; // ascending
    private State state;

    public TokenConstraint(Automaton automaton, TokenTrie trie, int[] extraEndTokens) {
        this.automaton = automaton;
        this.trie = trie;
        this.extraEndTokens = extraEndTokens.clone();
        Arrays.sort(this.extraEndTokens);
        this.state = automaton.start();
    }

    private boolean ends(int token) {
        return trie.isEndOfGeneration(token) || Arrays.binarySearch(extraEndTokens, token) >= 0;
    }

    /** Whether {@code token} may come next. */
    public boolean allows(int token) {
        checkToken(token);
        if (ends(token)) return state.accepts();
        byte[] b = trie.bytes[token];
        return b.length > 0 && !automaton.advance(state, b).isDead();
    }

    /**
     * Every token that may come next (true = allowed). // [nVocab]
     */
    public boolean[] mask() {
        boolean[] out = new boolean[trie.vocabSize()];
        walk(0, state, out);
        endTokens(out);
        return out;
    }

    private void walk(int node, State s, boolean[] out) {
        for (int c = trie.firstChild[node]; c != -1; c = trie.nextSibling[c]) {
            State t = automaton.advance(s, trie.label[c] & 0xFF);
            if (t.isDead()) continue;
            for (int tok = trie.firstToken[c]; tok != -1; tok = trie.nextToken[tok]) out[tok] = true;
            if (trie.firstChild[c] != -1) walk(c, t, out);
        }
    }

    private void endTokens(boolean[] out) {
        for (int t : trie.endOfGeneration) out[t] = state.accepts();
        for (int t : extraEndTokens) if (t >= 0 && t < out.length) out[t] = state.accepts();
    }

    /** The reference for {@link #mask}: every token checked on its own from the current state, no trie. */
    boolean[] naiveMask() {
        boolean[] out = new boolean[trie.vocabSize()];
        for (int t = 0; t < out.length; t++) {
            if (ends(t)) {
                out[t] = state.accepts();
                continue;
            }
            State s = state;
            byte[] b = trie.bytes[t];
            for (int k = 0; k < b.length && !s.isDead(); k++) s = automaton.advance(s, b[k] & 0xFF);
            out[t] = b.length > 0 && !s.isDead();
        }
        return out;
    }

    /**
     * A copy of {@code logits} with every token {@link #mask} refuses at -infinity: what the sampler chooses from
     * again when its first choice was refused. // F32 [nVocab]
     */
    public float[] masked(float[] logits) {
        boolean[] allowed = mask();
        float[] out = logits.clone();
        for (int t = 0; t < out.length; t++) if (t >= allowed.length || !allowed[t]) out[t] = Float.NEGATIVE_INFINITY;
        return out;
    }

    /**
     * What {@link #choose} chose: the token, and the masked logits if it had to compute them (else null).
     *
     * @param masked F32 [nVocab] or null
     */
    public record Choice(int token, float[] masked) {
    }

    /**
     * The lazy choice: {@code sampler} chooses from {@code penalised} as usual; only if this constraint refuses that
     * token does it choose again from the {@link #masked} logits. Greedy, this is exactly the argmax over the
     * allowed tokens; sampled, it is llama.cpp's order (draw, check, redraw from the masked distribution).
     *
     * @throws IllegalStateException if even the masked choice is refused (no token is allowed at all)
     */
    public Choice choose(Sampler sampler, float[] penalised, long step) {
        int token = sampler.choose(penalised, step);
        if (allows(token)) return new Choice(token, null);
        float[] masked = masked(penalised);
        token = sampler.choose(masked, step);
        if (!allows(token)) throw new IllegalStateException("the response format allows no token here");
        return new Choice(token, masked);
    }

    /**
     * Moves past {@code token}, which must be allowed ({@link #allows}); an end token leaves the state as is.
     *
     * @throws IllegalArgumentException naming the token if the grammar refuses it
     */
    public void accept(int token) {
        if (!allows(token)) {
            throw new IllegalArgumentException("token " + token + " (bytes " + Arrays.toString(trie.bytes[token])
                    + ") does not continue the document here");
        }
        if (!ends(token)) state = automaton.advance(state, trie.bytes[token]);
    }

    /**
     * Moves past raw bytes as if tokens had spelled them (tests walk every byte boundary this way; benches put a
     * constraint in the middle of a document).
     *
     * @throws IllegalArgumentException if the grammar refuses them
     */
    public void acceptBytes(byte[] bytes) {
        State s = automaton.advance(state, bytes);
        if (s.isDead()) throw new IllegalArgumentException("bytes " + Arrays.toString(bytes) + " do not continue the document");
        state = s;
    }

    /** Whether the text so far is a whole document (suffix included). */
    public boolean accepts() {
        return state.accepts();
    }

    /** Whether the document is whole and nothing may follow it: the job is done. */
    public boolean complete() {
        return state.accepts() && !state.canContinue();
    }

    /** Whether {@code token} ends generation for this constraint. */
    public boolean isEnd(int token) {
        return ends(token);
    }

    private void checkToken(int token) {
        if (token < 0 || token >= trie.vocabSize()) {
            throw new IllegalArgumentException("token id " + token + " out of range [0, " + trie.vocabSize() + ")");
        }
    }
}
