package dev.bunshin.engine.tokenizer;

import dev.bunshin.engine.gguf.GgufFile;

import java.io.IOException;

/**
 * Text ↔ token ids, built from GGUF tokenizer metadata (SentencePiece-style {@code llama} and byte-level BPE
 * {@code gpt2}). CONTRACT stub: implemented by the tokenizer work.
 */
public final class Tokenizer {

    private Tokenizer() {}

    /** Builds the tokenizer the file describes; throws naming the file and the unsupported model/pre-tokenizer. */
    public static Tokenizer fromGguf(GgufFile file) throws IOException {
        throw new UnsupportedOperationException("not implemented yet");
    }

    /**
     * Tokenizes like llama.cpp's {@code llama_tokenize(text, add_special, parse_special)}.
     *
     * @param addSpecial   add BOS/EOS as the model's metadata asks
     * @param parseSpecial recognise special/control token text (e.g. {@code <|im_start|>}) in {@code text}
     */
    public int[] encode(String text, boolean addSpecial, boolean parseSpecial) {
        throw new UnsupportedOperationException("not implemented yet");
    }

    /** The raw bytes a token stands for (after byte-fallback / byte-level decoding). */
    public byte[] tokenBytes(int token) {
        throw new UnsupportedOperationException("not implemented yet");
    }

    /** Decodes a whole sequence to text (special tokens rendered as nothing). */
    public String decode(int[] tokens) {
        throw new UnsupportedOperationException("not implemented yet");
    }

    /** A streaming decoder that only emits complete UTF-8 characters. */
    public TokenDecoder newDecoder() {
        throw new UnsupportedOperationException("not implemented yet");
    }

    public int vocabSize() {
        throw new UnsupportedOperationException("not implemented yet");
    }

    /** BOS id, or -1. */
    public int bos() {
        throw new UnsupportedOperationException("not implemented yet");
    }

    /** EOS id, or -1. */
    public int eos() {
        throw new UnsupportedOperationException("not implemented yet");
    }

    /** Whether generating this token ends generation (EOS, EOT, EOM and other end-of-generation tokens). */
    public boolean isEndOfGeneration(int token) {
        throw new UnsupportedOperationException("not implemented yet");
    }
}
