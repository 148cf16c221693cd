package dev.bunshin.engine.tokenizer;

/**
 * Turns a stream of tokens into text, holding back bytes of a UTF-8 character split across tokens.
 * CONTRACT stub: implemented by the tokenizer work.
 */
public interface TokenDecoder {
    /** Adds a token; returns the text that is now complete (possibly empty). */
    String push(int token);

    /** Returns whatever is held back (incomplete bytes decoded with replacement characters). */
    String flush();
}
