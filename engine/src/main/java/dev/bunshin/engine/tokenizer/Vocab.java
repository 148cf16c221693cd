package dev.bunshin.engine.tokenizer;

import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.engine.gguf.GgufKeys;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What the GGUF file says about the vocabulary, resolved as llama.cpp's {@code llama_vocab::impl::load} resolves it:
 * token texts, scores and attributes, special token ids (with llama.cpp's per-model defaults and its text
 * heuristics for EOT/EOM/FIM tokens), the end-of-generation set, and the tokenizer flags.
 */
final class Vocab {

    /** llama.cpp's vocabulary types this tokenizer implements. */
    enum Type { SPM, BPE, WPM }

    // Token attributes, as llama.cpp's llama_token_attr bits.
    static final int ATTR_UNDEFINED = 0;
    static final int ATTR_UNKNOWN = 1;
    static final int ATTR_UNUSED = 1 << 1;
    static final int ATTR_NORMAL = 1 << 2;
    static final int ATTR_CONTROL = 1 << 3;
    static final int ATTR_USER_DEFINED = 1 << 4;
    static final int ATTR_BYTE = 1 << 5;
    static final int ATTR_LSTRIP = 1 << 7;
    static final int ATTR_RSTRIP = 1 << 8;

    static final int NULL = -1;

    final Type type;
    final String model;
    final String pre;               // as in the file, "" if absent
    final PreTokenizer.Spec preSpec; // BPE only
    final String[] text;            // [nVocab]
    final float[] score;            // [nVocab]
    final int[] attr;               // [nVocab]
    final Map<String, Integer> ids;
    final Map<String, Integer> bpeRanks; // "left\0right" → rank (BPE only)

    int bos = 1, eos = 2, eot = NULL, eom = NULL, unk = 0, sep = NULL, pad = NULL, mask = NULL;
    int fimPre = NULL, fimSuf = NULL, fimMid = NULL, fimPad = NULL, fimRep = NULL, fimSep = NULL;
    boolean addSpacePrefix, addBos, addEos, ignoreMerges, cleanSpaces;
    final BitSet eog = new BitSet();
    final int[] specialTokens; // control, user-defined and unknown tokens, longest text first

    private Vocab(GgufFile file, Type type, String model) throws IOException {
        this.type = type;
        this.model = model;
        this.pre = file.getString(GgufKeys.TOKENIZER_PRE, "");
        Object tokens = file.get(GgufKeys.TOKENIZER_TOKENS);
        if (!(tokens instanceof String[] t)) {
            throw new IOException(file.path() + ": " + GgufKeys.TOKENIZER_TOKENS + " is missing or not a string array");
        }
        int n = t.length;
        text = new String[n];
        score = new float[n];
        attr = new int[n];
        ids = new HashMap<>(n * 2);
        Object scores = file.get(GgufKeys.TOKENIZER_SCORES);
        Object types = file.get(GgufKeys.TOKENIZER_TOKEN_TYPE);
        for (int i = 0; i < n; i++) {
            String word = t[i].isEmpty() ? "[EMPTY_" + i + "]" : t[i];
            text[i] = word;
            ids.put(word, i);
            score[i] = scores instanceof float[] s && i < s.length ? s[i] : 0f;
            attr[i] = types instanceof int[] ty && i < ty.length ? attrOfType(ty[i]) : ATTR_NORMAL;
        }

        if (type == Type.BPE) {
            if (pre.isEmpty()) {
                preSpec = PreTokenizer.spec("default"); // llama.cpp warns "GENERATION QUALITY WILL BE DEGRADED"
            } else {
                preSpec = PreTokenizer.spec(pre);
                if (preSpec == null) {
                    throw new IOException(file.path() + ": unsupported pre-tokenizer " + GgufKeys.TOKENIZER_PRE + "='"
                            + pre + "' (supported: " + String.join(", ", PreTokenizer.supportedNames()) + ")");
                }
            }
            bpeRanks = readMerges(file);
            bos = 11; // llama.cpp's defaults for gpt2 vocabularies
            eos = 11;
            unk = NULL;
            addSpacePrefix = false;
            cleanSpaces = preSpec.cleanSpaces();
            ignoreMerges = preSpec.ignoreMerges();
            addBos = preSpec.addBos();
            if (preSpec.noBos()) {
                bos = NULL;
            }
        } else if (type == Type.WPM) {
            preSpec = null;
            bpeRanks = Map.of();
            bos = 101; // llama.cpp's defaults for bert vocabularies: [CLS] [SEP] [UNK] [PAD] [MASK]
            eos = NULL;
            unk = 100;
            sep = 102;
            pad = 0;
            mask = 103;
            addSpacePrefix = false;
            cleanSpaces = true;
            addBos = true;
        } else {
            preSpec = null;
            bpeRanks = Map.of();
            addSpacePrefix = true;
            addBos = true;
        }
        addSpacePrefix = file.getBoolean(GgufKeys.TOKENIZER_ADD_SPACE_PREFIX, addSpacePrefix);

        bos = specialId(file, GgufKeys.TOKENIZER_BOS_ID, bos);
        eos = specialId(file, GgufKeys.TOKENIZER_EOS_ID, eos);
        eot = specialId(file, GgufKeys.TOKENIZER_EOT_ID, eot);
        eom = specialId(file, GgufKeys.TOKENIZER_EOM_ID, eom);
        unk = specialId(file, GgufKeys.TOKENIZER_UNK_ID, unk);
        sep = specialId(file, GgufKeys.TOKENIZER_SEP_ID, sep);
        pad = specialId(file, GgufKeys.TOKENIZER_PAD_ID, pad);
        mask = specialId(file, GgufKeys.TOKENIZER_MASK_ID, mask);
        fimPre = specialId(file, GgufKeys.TOKENIZER_FIM_PRE_ID, fimPre);
        fimSuf = specialId(file, GgufKeys.TOKENIZER_FIM_SUF_ID, fimSuf);
        fimMid = specialId(file, GgufKeys.TOKENIZER_FIM_MID_ID, fimMid);
        fimPad = specialId(file, GgufKeys.TOKENIZER_FIM_PAD_ID, fimPad);
        fimRep = specialId(file, GgufKeys.TOKENIZER_FIM_REP_ID, fimRep);
        fimSep = specialId(file, GgufKeys.TOKENIZER_FIM_SEP_ID, fimSep);
        fimPre = specialId(file, GgufKeys.TOKENIZER_PREFIX_ID, fimPre);
        fimSuf = specialId(file, GgufKeys.TOKENIZER_SUFFIX_ID, fimSuf);
        fimMid = specialId(file, GgufKeys.TOKENIZER_MIDDLE_ID, fimMid);
        addBos = file.getBoolean(GgufKeys.TOKENIZER_ADD_BOS, addBos);
        addEos = file.getBoolean(GgufKeys.TOKENIZER_ADD_EOS, addEos);

        detectByText();
        collectEndOfGeneration();
        specialTokens = collectSpecialTokens();
        applyModelAttributes(file.getString(GgufKeys.GENERAL_NAME, ""));
    }

    /** Reads the vocabulary, or throws naming the file and the tokenizer model if it is not supported. */
    static Vocab load(GgufFile file) throws IOException {
        String model = file.getString(GgufKeys.TOKENIZER_MODEL, null);
        if (model == null) {
            throw new IOException(file.path() + ": no tokenizer (" + GgufKeys.TOKENIZER_MODEL + " is missing)");
        }
        return switch (model) {
            case "llama" -> new Vocab(file, Type.SPM, model);
            case "gpt2" -> new Vocab(file, Type.BPE, model);
            case "bert" -> new Vocab(file, Type.WPM, model);
            default -> throw new IOException(file.path() + ": unsupported tokenizer model " + GgufKeys.TOKENIZER_MODEL
                    + "='" + model + "' (supported: 'llama' = SentencePiece/SPM, 'gpt2' = byte-level BPE, "
                    + "'bert' = WordPiece; not implemented: 't5' = Unigram, 'rwkv', 'plamo2', 'no_vocab')");
        };
    }

    int size() {
        return text.length;
    }

    boolean has(int id, int attrBits) {
        return (attr[id] & attrBits) != 0;
    }

    int id(String s) {
        Integer id = ids.get(s);
        return id == null ? NULL : id;
    }

    /** BPE merge rank of (left, right), or -1. */
    int rank(String left, String right) {
        Integer r = bpeRanks.get(left + '\0' + right);
        return r == null ? -1 : r;
    }

    private static int attrOfType(int tokenType) {
        return switch (tokenType) {
            case 1 -> ATTR_NORMAL;
            case 2 -> ATTR_UNKNOWN;
            case 3 -> ATTR_CONTROL;
            case 4 -> ATTR_USER_DEFINED;
            case 5 -> ATTR_UNUSED;
            case 6 -> ATTR_BYTE;
            default -> ATTR_UNDEFINED;
        };
    }

    private static Map<String, Integer> readMerges(GgufFile file) throws IOException {
        Object merges = file.get(GgufKeys.TOKENIZER_MERGES);
        if (!(merges instanceof String[] m)) {
            throw new IOException(file.path() + ": gpt2 tokenizer without " + GgufKeys.TOKENIZER_MERGES);
        }
        Map<String, Integer> ranks = new HashMap<>(m.length * 2);
        for (int i = 0; i < m.length; i++) {
            // "left right", split at the first space after the first character (a token may start with a space)
            int sp = m[i].indexOf(' ', 1);
            String left = sp < 0 ? "" : m[i].substring(0, sp);
            String right = sp < 0 ? "" : m[i].substring(sp + 1);
            ranks.putIfAbsent(left + '\0' + right, i);
        }
        return ranks;
    }

    private int specialId(GgufFile file, String key, int dflt) {
        Object v = file.get(key);
        if (!(v instanceof Number num)) {
            return dflt;
        }
        long id = num.longValue();
        return id >= 0 && id < text.length ? (int) id : dflt; // llama.cpp: "bad special token", keeps the default
    }

    private static final List<String> EOT_TEXTS = List.of("<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>",
            "<|endoftext|>", "<|end_of_text|>", "<EOT>", "_<EOT>", "<｜end▁of▁sentence｜>", "<end_of_utterance>");
    private static final List<String> EOG_TEXTS = List.of("<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>",
            "<|call|>", "<end_of_turn>", "<|endoftext|>", "<|eom_id|>", "<EOT>", "_<EOT>", "<|end_of_text|>",
            "<end_of_utterance>");

    /** llama.cpp's workaround for files that do not name EOT/EOM/FIM tokens: find them by text. */
    private void detectByText() {
        eot = firstByText(eot, EOT_TEXTS);
        eom = firstByText(eom, List.of("<|eom_id|>"));
        fimPre = firstByText(fimPre, List.of("<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>",
                "<PRE>", "▁<PRE>", "<|code_prefix|>"));
        fimSuf = firstByText(fimSuf, List.of("<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>",
                "<SUF>", "▁<SUF>", "<|code_suffix|>"));
        fimMid = firstByText(fimMid, List.of("<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>",
                "<MID>", "▁<MID>", "<|code_middle|>"));
        fimPad = firstByText(fimPad, List.of("<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>"));
        fimRep = firstByText(fimRep, List.of("<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"));
        fimSep = firstByText(fimSep, List.of("<|file_sep|>"));
    }

    private int firstByText(int current, List<String> texts) {
        if (current != NULL) {
            return current;
        }
        for (String s : texts) {
            int id = id(s);
            if (id != NULL) {
                forceControl(id);
                return id;
            }
        }
        return NULL;
    }

    /** A control-looking token that the file did not mark as control is treated as one (llama.cpp warns). */
    private void forceControl(int id) {
        if (!has(id, ATTR_CONTROL)) {
            attr[id] = ATTR_CONTROL | (attr[id] & (ATTR_LSTRIP | ATTR_RSTRIP));
        }
    }

    private void collectEndOfGeneration() {
        for (int id : new int[]{fimPad, fimRep, fimSep, eos, eot, eom}) {
            if (id != NULL) {
                eog.set(id);
            }
        }
        for (String s : EOG_TEXTS) {
            int id = id(s);
            if (id != NULL) {
                eog.set(id);
                forceControl(id);
            }
        }
        // gpt-oss (o200k_harmony): these structure tokens are always rendered
        for (String s : new String[]{"<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"}) {
            int id = id(s);
            if (id != NULL) {
                attr[id] = ATTR_USER_DEFINED;
            }
        }
        // ... and there "<|end|>" ends a message, not the generation, when "<|return|>" and "<|call|>" exist
        int end = id("<|end|>");
        int ret = id("<|return|>");
        int call = id("<|call|>");
        if (end != NULL && ret != NULL && call != NULL && eog.get(end) && eog.get(ret) && eog.get(call)) {
            eog.clear(end);
            attr[end] = ATTR_USER_DEFINED;
        }
    }

    private int[] collectSpecialTokens() {
        List<Integer> list = new ArrayList<>();
        for (int id = 0; id < text.length; id++) {
            if (has(id, ATTR_CONTROL | ATTR_USER_DEFINED | ATTR_UNKNOWN)) {
                list.add(id);
            }
        }
        // longest first, so that "<|im_start|>" is found before any shorter token inside it (stable by id on ties)
        list.sort((a, b) -> Integer.compare(text[b].getBytes(StandardCharsets.UTF_8).length,
                text[a].getBytes(StandardCharsets.UTF_8).length));
        return list.stream().mapToInt(Integer::intValue).toArray();
    }

    /** llama.cpp sets strip attributes by model name, since GGUF files do not carry them. */
    private void applyModelAttributes(String generalName) {
        String name = generalName.toLowerCase(Locale.ROOT);
        if (pre.contains("jina-v2-de") || pre.contains("jina-v2-es") || pre.contains("jina-v2-code")) {
            setAttr("<mask>", ATTR_LSTRIP, true);
        } else if (name.contains("phi-3") || name.contains("phi3")) {
            for (int id : specialTokens) {
                attr[id] |= ATTR_RSTRIP;
            }
            setAttr("</s>", ATTR_RSTRIP, true);
            for (String s : new String[]{"<unk>", "<s>", "<|endoftext|>"}) {
                setAttr(s, ATTR_RSTRIP, false);
            }
        }
    }

    private void setAttr(String token, int bit, boolean value) {
        int id = id(token);
        if (id == NULL) {
            return;
        }
        attr[id] = value ? attr[id] | bit : attr[id] & ~bit;
    }
}
