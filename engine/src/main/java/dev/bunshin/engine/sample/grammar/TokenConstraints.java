package dev.bunshin.engine.sample.grammar;

import dev.bunshin.engine.tokenizer.Tokenizer;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Makes {@link TokenConstraint}s for one model: the vocabulary's {@link TokenTrie} is built once (lazily, on the
 * first constrained job), and a grammar's {@link Automaton} (with everything it has learnt about which bytes lead
 * where) is shared by every job with the same response format — a batch of 500 lines with one schema compiles it
 * once. Keeps the {@value #MAX_GRAMMARS} most recently used. Not thread-safe (the tail's one thread).
 */
public final class TokenConstraints {

    static final int MAX_GRAMMARS = 32;

    private final Tokenizer tokenizer;
    private TokenTrie trie;
    private final Map<String, Automaton> automata = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Automaton> eldest) {
            return size() > MAX_GRAMMARS;
        }
    };

    public TokenConstraints(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    /** For tests and benches: a trie already built. */
    public TokenConstraints(TokenTrie trie) {
        this.tokenizer = null;
        this.trie = trie;
    }

    /**
     * A fresh constraint (at the start of the document) for a job whose {@code jobs.response_format} is
     * {@code responseFormat}.
     *
     * @param extraEndTokens tokens besides the model's end-of-generation ones that end the job (a chat's end of turn)
     * @throws UnsupportedSchemaException if the format cannot be honoured
     */
    public TokenConstraint forJob(String responseFormat, int[] extraEndTokens) {
        Automaton a = automata.get(responseFormat);
        if (a == null) {
            a = new Automaton(ResponseFormat.parse(responseFormat).grammar());
            automata.put(responseFormat, a);
        }
        return new TokenConstraint(a, trie(), extraEndTokens);
    }

    public TokenTrie trie() {
        if (trie == null) trie = TokenTrie.of(tokenizer);
        return trie;
    }
}
