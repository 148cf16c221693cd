package dev.bunshin.engine.tokenizer;

import dev.bunshin.engine.gguf.GgufFile;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Text ↔ token ids, built from GGUF tokenizer metadata, following llama.cpp's {@code llama-vocab.cpp}:
 * SentencePiece-style {@code llama} vocabularies (SPM), byte-level BPE {@code gpt2} vocabularies with the
 * pre-tokenizer {@code tokenizer.ggml.pre} names, and BERT's WordPiece ({@code bert}). Other tokenizer models
 * ({@code t5}, {@code rwkv}, ...) are refused by {@link #fromGguf}.
 * Immutable and thread-safe.
 */
public final class Tokenizer {

    private static final String SPACE_ESCAPE = "\u2581"; // ▁

    private final Vocab vocab;
    private final SpmEncoder spm;   // SPM vocabularies only
    private final BpeEncoder bpe;   // BPE vocabularies only
    private final WpmEncoder wpm;   // WPM vocabularies only
    private final byte[][] pieces;  // [nVocab] what each token decodes to (token_to_piece, special = false)

    private Tokenizer(Vocab vocab) {
        this.vocab = vocab;
        this.spm = vocab.type == Vocab.Type.SPM ? new SpmEncoder(vocab) : null;
        this.bpe = vocab.type == Vocab.Type.BPE ? new BpeEncoder(vocab) : null;
        this.wpm = vocab.type == Vocab.Type.WPM ? new WpmEncoder(vocab) : null;
        this.pieces = new byte[vocab.size()][];
        for (int id = 0; id < pieces.length; id++) {
            pieces[id] = piece(id);
        }
    }

    /** Builds the tokenizer the file describes; throws naming the file and the unsupported model/pre-tokenizer. */
    public static Tokenizer fromGguf(GgufFile file) throws IOException {
        return new Tokenizer(Vocab.load(file));
    }

    /**
     * Tokenizes like llama.cpp's {@code llama_tokenize(text, add_special, parse_special)}.
     *
     * @param addSpecial   add BOS/EOS as the model's metadata asks
     * @param parseSpecial recognise special/control token text (e.g. {@code <|im_start|>}) in {@code text};
     *                     user-defined tokens are recognised either way, as in llama.cpp
     */
    public int[] encode(String text, boolean addSpecial, boolean parseSpecial) {
        IntList out = new IntList();
        List<Fragment> fragments = partition(text, parseSpecial);
        if (vocab.type == Vocab.Type.SPM) {
            boolean prevSpecial = true; // the first text fragment gets the space prefix
            if (addSpecial && vocab.addBos && vocab.bos != Vocab.NULL) {
                out.add(vocab.bos);
            }
            for (Fragment f : fragments) {
                if (f.token >= 0) {
                    out.add(f.token);
                    prevSpecial = true;
                } else {
                    String s = text.substring(f.start, f.end);
                    if (vocab.addSpacePrefix && prevSpecial) {
                        s = " " + s;
                    }
                    spm.encode(s.replace(" ", SPACE_ESCAPE), out);
                    prevSpecial = false;
                }
            }
        } else if (vocab.type == Vocab.Type.WPM) {
            // BERT: [CLS] text [SEP] when special tokens are asked for, whatever add_bos/add_eos say
            if (addSpecial && vocab.bos != Vocab.NULL) {
                out.add(vocab.bos);
            }
            for (Fragment f : fragments) {
                if (f.token >= 0) {
                    out.add(f.token);
                } else {
                    wpm.encode(text.substring(f.start, f.end), out);
                }
            }
            if (addSpecial && vocab.sep != Vocab.NULL) {
                out.add(vocab.sep);
            }
            return out.toArray();
        } else {
            if (addSpecial && vocab.addBos && vocab.bos != Vocab.NULL) {
                out.add(vocab.bos);
            }
            for (Fragment f : fragments) {
                if (f.token >= 0) {
                    out.add(f.token);
                } else {
                    bpe.encode(text.substring(f.start, f.end), out);
                }
            }
        }
        if (addSpecial && vocab.addEos && vocab.eos != Vocab.NULL) {
            out.add(vocab.eos);
        }
        return out.toArray();
    }

    /** Either a special token ({@code token >= 0}) or a span of raw text. */
    private record Fragment(int token, int start, int end) {}

    /**
     * Splits the text on special token strings, longest token first, as llama.cpp's
     * {@code tokenizer_st_partition}: control and unknown tokens only when {@code parseSpecial}, user-defined
     * tokens always; a token with the lstrip/rstrip attribute eats the whitespace beside it.
     */
    private List<Fragment> partition(String text, boolean parseSpecial) {
        List<Fragment> fragments = new ArrayList<>();
        if (text.isEmpty()) {
            return fragments;
        }
        fragments.add(new Fragment(-1, 0, text.length()));
        for (int id : vocab.specialTokens) {
            if (!parseSpecial && vocab.has(id, Vocab.ATTR_CONTROL | Vocab.ATTR_UNKNOWN)) {
                continue;
            }
            String tok = vocab.text[id];
            List<Fragment> next = new ArrayList<>(fragments.size() + 2);
            for (Fragment f : fragments) {
                if (f.token >= 0) {
                    next.add(f);
                    continue;
                }
                int pos = f.start;
                while (true) {
                    int m = text.indexOf(tok, pos);
                    if (m < 0 || m + tok.length() > f.end) {
                        break;
                    }
                    int leftEnd = m;
                    if (vocab.has(id, Vocab.ATTR_LSTRIP)) {
                        while (leftEnd > pos && isSpace(text.charAt(leftEnd - 1))) leftEnd--;
                    }
                    if (leftEnd > pos) {
                        next.add(new Fragment(-1, pos, leftEnd));
                    }
                    next.add(new Fragment(id, m, m + tok.length()));
                    pos = m + tok.length();
                    if (vocab.has(id, Vocab.ATTR_RSTRIP)) {
                        while (pos < f.end && isSpace(text.charAt(pos))) pos++;
                    }
                }
                if (pos < f.end) {
                    next.add(new Fragment(-1, pos, f.end));
                }
            }
            fragments = next;
        }
        return fragments;
    }

    /** C's {@code isspace} in the "C" locale. */
    private static boolean isSpace(char c) {
        return c == ' ' || (c >= '\t' && c <= '\r');
    }

    /** The raw bytes a token stands for (after byte-fallback / byte-level decoding); empty for control tokens. */
    public byte[] tokenBytes(int token) {
        checkToken(token);
        return pieces[token].clone();
    }

    /** Appends the token's bytes without a defensive copy. */
    void appendBytes(int token, ByteArrayOutputStream out) {
        checkToken(token);
        out.write(pieces[token], 0, pieces[token].length);
    }

    private void checkToken(int token) {
        if (token < 0 || token >= pieces.length) {
            throw new IllegalArgumentException("token id " + token + " out of range [0, " + pieces.length + ")");
        }
    }

    /** llama.cpp's {@code token_to_piece(token, special = false)}. */
    private byte[] piece(int id) {
        if (vocab.has(id, Vocab.ATTR_UNKNOWN | Vocab.ATTR_CONTROL)) {
            return new byte[0];
        }
        String t = vocab.text[id];
        if (vocab.has(id, Vocab.ATTR_USER_DEFINED)) {
            return t.getBytes(StandardCharsets.UTF_8);
        }
        if (vocab.type != Vocab.Type.BPE) {
            if (vocab.has(id, Vocab.ATTR_NORMAL)) {
                return t.replace(SPACE_ESCAPE, " ").getBytes(StandardCharsets.UTF_8);
            }
            if (vocab.has(id, Vocab.ATTR_BYTE)) {
                return new byte[]{(byte) Integer.parseInt(t.substring(3, 5), 16)}; // "<0xXX>"
            }
            return new byte[0];
        }
        if (vocab.has(id, Vocab.ATTR_NORMAL)) {
            ByteArrayOutputStream out = new ByteArrayOutputStream(t.length());
            t.codePoints().forEach(cp -> {
                int b = ByteUnicode.codepointToByte(cp);
                if (b >= 0) {
                    out.write(b);
                } else {
                    // llama.cpp writes this marker for a character outside the byte mapping
                    byte[] utf8 = Character.toString(cp).getBytes(StandardCharsets.UTF_8);
                    StringBuilder sb = new StringBuilder("[UNK_BYTE_0x");
                    for (byte u : utf8) sb.append(String.format("%02x", u & 0xFF));
                    sb.append(t).append(']');
                    out.writeBytes(sb.toString().getBytes(StandardCharsets.UTF_8));
                }
            });
            return out.toByteArray();
        }
        return new byte[0];
    }

    /**
     * Decodes a whole sequence to text like llama.cpp's {@code llama_detokenize(remove_special = false,
     * unparse_special = false)}: control tokens render as nothing, the space SentencePiece put before the first
     * token is dropped, and for BPE vocabularies that ask for it the tokenization spaces are cleaned up
     * (" ," → ","). Invalid UTF-8 becomes U+FFFD. Streaming output should use {@link #newDecoder()} instead.
     */
    public String decode(int[] tokens) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        boolean removeSpace = vocab.addSpacePrefix;
        for (int t : tokens) {
            checkToken(t);
            byte[] p = pieces[t];
            int from = removeSpace && p.length > 0 && p[0] == ' ' ? 1 : 0;
            out.write(p, from, p.length - from);
            removeSpace = false;
        }
        byte[] text = out.toByteArray();
        if (vocab.cleanSpaces) {
            text = cleanSpaces(text);
        }
        return new String(text, StandardCharsets.UTF_8);
    }

    /** llama.cpp's three clean-up passes of {@code clean_up_tokenization_spaces}. */
    static byte[] cleanSpaces(byte[] in) {
        // 1: " ?", " !", " .", " ," lose the space
        byte[] src = in;
        int n = src.length;
        byte[] dst = new byte[n];
        int total = n > 0 ? 1 : 0;
        if (n > 0) dst[0] = src[0];
        for (int i = 1; i < n; i++) {
            byte x = src[i];
            if (src[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',')) {
                total--;
            }
            dst[total++] = x;
        }
        // 2: " ' " → "'"
        src = java.util.Arrays.copyOf(dst, total);
        n = total;
        total = n > 0 ? 1 : 0;
        for (int i = 1; i < n; i++) {
            byte x = src[i];
            if (x == '\'' && i + 1 < n && src[i - 1] == ' ' && src[i + 1] == ' ') {
                total--;
                src[++i] = 0;
            }
            dst[total++] = x;
        }
        // 3: " 's", " 'm", " 're", " 've" lose the space
        src = java.util.Arrays.copyOf(dst, total);
        n = total;
        total = n > 0 ? 1 : 0;
        for (int i = 1; i < n; i++) {
            byte x = src[i];
            if (src[i - 1] == ' ' && x == '\'' && i + 1 < n) {
                byte x1 = src[i + 1];
                if (x1 == 's' || x1 == 'm') {
                    total--;
                } else if (x1 != 't' && x1 != 'd' && i + 2 < n) {
                    byte x2 = src[i + 2];
                    if ((x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e')) {
                        total--;
                    }
                }
            }
            dst[total++] = x;
        }
        return java.util.Arrays.copyOf(dst, total);
    }

    /**
     * A streaming decoder that only emits complete UTF-8 characters: the concatenation of each token's
     * {@link #tokenBytes} (llama.cpp's per-token {@code token_to_piece}, as its server streams; no space stripping).
     */
    public TokenDecoder newDecoder() {
        return new Utf8TokenDecoder(this);
    }

    public int vocabSize() {
        return vocab.size();
    }

    /** BOS id, or -1. */
    public int bos() {
        return vocab.bos;
    }

    /** EOS id, or -1. */
    public int eos() {
        return vocab.eos;
    }

    /** EOT id (end of turn, e.g. {@code <|eot_id|>}, {@code <|im_end|>}), or -1. */
    public int eot() {
        return vocab.eot;
    }

    /** Whether generating this token ends generation (EOS, EOT, EOM and other end-of-generation tokens). */
    public boolean isEndOfGeneration(int token) {
        return token >= 0 && vocab.eog.get(token);
    }

    /** Whether {@link #encode} with {@code addSpecial} puts BOS first (tokenizer.ggml.add_bos_token). */
    public boolean addsBos() {
        return vocab.addBos && vocab.bos != Vocab.NULL;
    }

    /** Whether {@link #encode} with {@code addSpecial} appends EOS (tokenizer.ggml.add_eos_token). */
    public boolean addsEos() {
        return vocab.addEos && vocab.eos != Vocab.NULL;
    }

    /** Whether the token is a control token (renders as nothing; BOS, EOS, {@code <|im_start|>}, ...). */
    public boolean isControl(int token) {
        checkToken(token);
        return vocab.has(token, Vocab.ATTR_CONTROL);
    }

    /** The token's text as stored in the vocabulary (e.g. {@code ▁the}, {@code Ġthe}, {@code <0x0A>}). */
    public String tokenText(int token) {
        checkToken(token);
        return vocab.text[token];
    }

    /** The id of a token by its vocabulary text, or -1. */
    public int tokenId(String tokenText) {
        return vocab.id(tokenText);
    }

    /** {@code tokenizer.ggml.model}: {@code llama}, {@code gpt2} or {@code bert}. */
    public String model() {
        return vocab.model;
    }

    /** {@code tokenizer.ggml.pre} as the file names it; empty if absent. */
    public String preTokenizer() {
        return vocab.pre;
    }

    /** Words the pre-tokenizer splits {@code text} into (BPE vocabularies; one word for SPM). For tests. */
    List<String> preTokenize(String text) {
        return bpe == null ? List.of(text) : bpe.preTokenizer().split(text);
    }
}
