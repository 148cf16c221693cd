package dev.bunshin.engine.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Splits text into words before byte-level BPE, as llama.cpp's {@code unicode_regex_split} does for the
 * pre-tokenizer named by {@code tokenizer.ggml.pre}. Each pre-tokenizer is a list of regexes applied in turn: every
 * regex splits each current piece into its matches and the gaps between them.
 *
 * <p>Two regexes (GPT-2's and Llama 3's) have hand-written splitters ({@link CustomSplitters}), as in llama.cpp.
 * The others run through
 * {@link java.util.regex}, in the same two ways llama.cpp feeds {@code std::regex}: a regex using {@code \p{..}} runs
 * on a "collapsed" text where every non-ASCII code point becomes one marker char for its category (and the
 * {@code \p{..}} classes become those markers plus their ASCII members, exactly llama.cpp's tables, quirks
 * included: {@code ~} is in neither {@code \p{P}} nor {@code \p{S}}); a regex without one runs on the code points,
 * non-ASCII whitespace replaced by U+000B.
 */
final class PreTokenizer {

    // llama.cpp's regex strings (from the models' tokenizer.json files, adapted by llama.cpp).
    static final String GPT2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";
    static final String LLAMA3 = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+"
            + "|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    static final String QWEN2 = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+"
            + "|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    static final String CONTRACTIONS = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])";
    static final String GPT4O = "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+" + CONTRACTIONS
            + "?|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]))*" + CONTRACTIONS
            + "?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    static final String QWEN35 = CONTRACTIONS + "|[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+|\\p{N}"
            + "| ?[^\\s\\p{L}\\p{M}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    static final String SEED_CODER = CONTRACTIONS + "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1}"
            + "| ?[^\\s\\p{L}\\p{N}\\r\\n]+|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    static final String BAILINGMOE = "'(?:[sSdDmMtT]|[lL][lL]|[vV][eE]|[rR][eE])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}"
            + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+";
    static final String DEEPSEEK_V3 = "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?"
            + "[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+";

    // (some code points escaped: an editor's NFC normalisation would silently change them and break the ranges)
    static final String DEEPSEEK_LLM_LETTERS = "\\s?[A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-\u1F7Dᾀ-ᾴᾶ-ᾼ\u1FBEῂ-ῄῆ-ῌῐ-\u1FD3ῖ-\u1FDBῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤ\u2126ℨ\u212A-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ𐐀-𐑏𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃]+";

    /** Pre-tokenizer names llama.cpp knows, each with its regex list and vocabulary flags. */
    record Spec(String name, List<String> regexes, boolean cleanSpaces, boolean ignoreMerges, boolean addBos,
                boolean noBos) {}

    private static final Map<String, Spec> SPECS = specs();

    private static Map<String, Spec> specs() {
        Map<String, Spec> m = new java.util.LinkedHashMap<>();
        List<String> dflt = List.of("[\\p{P}\\$\\+<=>\\^~\\|]+", GPT2, "\\p{N}+", "[0-9][0-9][0-9]");
        List<String> llama3 = List.of(LLAMA3);
        List<String> gpt2 = List.of(GPT2);
        List<String> starcoder = List.of("\\p{N}", GPT2);
        List<String> qwen2 = List.of(QWEN2);
        List<String> poro = List.of(" ?[^(\\s|.,!?…。，、।۔،)]+");
        put(m, dflt, true, false, false, "default");
        put(m, llama3, true, true, true, "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral",
                "midm-2.0", "lfm2");
        put(m, llama3, true, false, false, "dbrx", "smaug-bpe");
        put(m, List.of("[\r\n]", DEEPSEEK_LLM_LETTERS, "\\s?[!-/:-~！-／：-～‘-‟　-。]+", "\\s+$",
                "[一-龥ࠀ-一가-퟿]+", "\\p{N}+"), false, false, false, "deepseek-llm");
        put(m, List.of("\\p{N}{1,3}", "[一-龥぀-ゟ゠-ヿ]+", DEEPSEEK_V3), false, false, false, "deepseek-v3",
                "hunyuan-dense");
        put(m, List.of("[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", "[一-龥ࠀ-一가-퟿]+", "\\p{N}"),
                false, false, false, "deepseek-coder");
        put(m, List.of("[\\p{P}\\$\\+<=>\\^~\\|`]+", GPT2, "[0-9][0-9][0-9]"), true, false, false, "falcon");
        put(m, gpt2, true, false, false, "mpt", "olmo", "jais", "gpt-2", "phi-2", "jina-es", "jina-de", "gigachat",
                "jina-v1-en", "jina-v2-es", "jina-v2-de", "jina-v2-code", "roberta-bpe", "a.x-4.0", "mellum", "exaone4");
        put(m, gpt2, false, false, false, "trillion", "granite-docling");
        put(m, starcoder, true, false, false, "starcoder", "refact", "codeshell", "exaone", "minerva-7b");
        put(m, starcoder, false, false, false, "command-r", "smollm");
        put(m, qwen2, false, false, false, "qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "hunyuan", "grok-2");
        put(m, List.of(QWEN35), false, false, false, "qwen35");
        put(m, List.of(GPT4O), false, false, false, "gpt-4o", "llama4", "minimax-m2");
        put(m, List.of(SEED_CODER), false, false, false, "seed-coder");
        put(m, List.of(BAILINGMOE), false, false, false, "bailingmoe", "bailingmoe2", "llada-moe");
        put(m, qwen2, true, false, false, "stablelm2", "megrez");
        put(m, poro, false, false, false, "poro-chat");
        put(m, poro, true, false, false, "bloom", "gpt3-finnish");
        put(m, List.of(" ?[^(\\s|.,!?…。，、।۔،)]+", "\\p{N}"), false, false, false, "viking");
        m.put("chatglm-bpe", new Spec("chatglm-bpe", llama3, true, false, false, true));
        m.put("glm4", new Spec("glm4", llama3, true, false, false, true));
        put(m, List.of("[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+|[^\\r\\n\\p{L}\\p{N}]?"
                        + "((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]))*|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*"
                        + "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"), false, true, true, "tekken");
        put(m, List.of("<sentinel:[0-9]+>", "(IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z", "([\\t\\n]|    |  )", "\\p{N}",
                "[\\p{P}!-/:-@\\[-`{-~]", GPT2), false, false, true, "chameleon");
        return Map.copyOf(m);
    }

    private static void put(Map<String, Spec> m, List<String> regexes, boolean cleanSpaces, boolean ignoreMerges,
                            boolean addBos, String... names) {
        for (String n : names) {
            m.put(n, new Spec(n, regexes, cleanSpaces, ignoreMerges, addBos, false));
        }
    }

    /** The spec for a {@code tokenizer.ggml.pre} value, or null if llama.cpp does not know it either. */
    static Spec spec(String pre) {
        return SPECS.get(pre);
    }

    static List<String> supportedNames() {
        return SPECS.keySet().stream().sorted().toList();
    }

    private interface Step {
        /** Splits each piece ({@code lengths}, in code points, summing to {@code cps.length}) further. */
        List<Integer> split(Text text, List<Integer> lengths);
    }

    /** The text in the three forms the steps read. */
    private static final class Text {
        final int[] cps;
        private String collapsed;
        private String wide;
        private int[] wideCharIndex; // [nCps + 1] char offset of each code point in wide

        Text(int[] cps) {
            this.cps = cps;
        }

        String collapsed() {
            if (collapsed == null) {
                char[] c = new char[cps.length];
                for (int i = 0; i < cps.length; i++) {
                    c[i] = collapse(cps[i]);
                }
                collapsed = new String(c);
            }
            return collapsed;
        }

        String wide() {
            if (wide == null) {
                StringBuilder sb = new StringBuilder(cps.length);
                wideCharIndex = new int[cps.length + 1];
                for (int i = 0; i < cps.length; i++) {
                    wideCharIndex[i] = sb.length();
                    int cp = cps[i];
                    sb.appendCodePoint(cp > 0x7F && CodepointFlags.isWhitespace(cp) ? 0x0B : cp);
                }
                wideCharIndex[cps.length] = sb.length();
                wide = sb.toString();
            }
            return wide;
        }
    }

    // Marker chars of the collapsed text, as llama.cpp's k_ucat_cpt.
    private static final char C_OTHER = 0xD0, C_NUMBER = 0xD1, C_LETTER = 0xD2, C_PUNCT = 0xD3, C_MARK = 0xD4,
            C_SYMBOL = 0xD5;

    private static char collapse(int cp) {
        if (cp < 128) {
            return (char) cp;
        }
        int flags = CodepointFlags.of(cp);
        if (CodepointFlags.is(flags, CodepointFlags.WHITESPACE)) {
            return 0x0B;
        }
        return switch (flags & CodepointFlags.MASK_CATEGORIES) {
            case CodepointFlags.NUMBER -> C_NUMBER;
            case CodepointFlags.LETTER -> C_LETTER;
            case CodepointFlags.PUNCTUATION -> C_PUNCT;
            case CodepointFlags.ACCENT_MARK -> C_MARK;
            case CodepointFlags.SYMBOL -> C_SYMBOL;
            default -> C_OTHER;
        };
    }

    // \p{..} → marker + ASCII members, as llama.cpp's k_ucat_map (for a Java character class).
    private static final Map<String, String> CATEGORY_CLASS = Map.of(
            "\\p{N}", C_NUMBER + "0-9",
            "\\p{L}", C_LETTER + "A-Za-z",
            "\\p{Lu}", C_LETTER + "A-Za-z", "\\p{Ll}", C_LETTER + "A-Za-z", "\\p{Lt}", C_LETTER + "A-Za-z",
            "\\p{Lm}", C_LETTER + "A-Za-z", "\\p{Lo}", C_LETTER + "A-Za-z",
            "\\p{P}", C_PUNCT + "!-#%-*,-/:-;?-@\\[-\\]_\\{\\}",
            "\\p{M}", String.valueOf(C_MARK),
            "\\p{S}", C_SYMBOL + "\\$\\+<->^`\\|");

    private final Spec spec;
    private final List<Step> steps;

    PreTokenizer(Spec spec) {
        this.spec = spec;
        List<Step> s = new ArrayList<>();
        for (String regex : spec.regexes()) {
            s.add(step(regex));
        }
        this.steps = List.copyOf(s);
    }

    Spec spec() {
        return spec;
    }

    private static Step step(String regex) {
        if (regex.equals(GPT2)) {
            return (t, lengths) -> CustomSplitters.splitEach(t.cps, lengths, CustomSplitters::gpt2);
        }
        if (regex.equals(LLAMA3)) {
            return (t, lengths) -> CustomSplitters.splitEach(t.cps, lengths, CustomSplitters::llama3);
        }
        boolean usesCategories = CATEGORY_CLASS.keySet().stream().anyMatch(regex::contains);
        if (usesCategories) {
            Pattern p = Pattern.compile(collapseRegex(regex));
            return (t, lengths) -> regexSplit(t.collapsed(), null, lengths, p);
        }
        Pattern p = Pattern.compile(javaRegex(regex));
        return (t, lengths) -> {
            String wide = t.wide();
            return regexSplit(wide, t.wideCharIndex, lengths, p);
        };
    }

    /** Words of {@code text}, each as the byte-level-encoded string BPE merges work on. */
    List<String> splitEncoded(String text) {
        List<String> words = split(text);
        words.replaceAll(w -> ByteUnicode.encode(w.getBytes(StandardCharsets.UTF_8)));
        return words;
    }

    /** Words of {@code text} as the regexes cut it (before byte encoding). */
    List<String> split(String text) {
        int[] cps = text.codePoints().toArray();
        Text t = new Text(cps);
        List<Integer> lengths = new ArrayList<>();
        if (cps.length > 0) {
            lengths.add(cps.length);
        }
        for (Step step : steps) {
            lengths = step.split(t, lengths);
        }
        List<String> words = new ArrayList<>(lengths.size());
        int start = 0;
        for (int len : lengths) {
            words.add(new String(cps, start, len));
            start += len;
        }
        return words;
    }

    // --- regex steps ---

    /**
     * Matches and the gaps between them, per piece, in code points. {@code charIndex} maps code points to chars of
     * {@code s} (null when they coincide, as in the collapsed text). Each piece is matched on its own, so
     * lookaheads and {@code $} stop at the piece's end, as with llama.cpp's {@code std::regex_iterator} per piece.
     */
    private static List<Integer> regexSplit(String s, int[] charIndex, List<Integer> lengths, Pattern p) {
        List<Integer> out = new ArrayList<>(lengths.size() * 2);
        int start = 0;
        for (int len : lengths) {
            int from = charIndex == null ? start : charIndex[start];
            int to = charIndex == null ? start + len : charIndex[start + len];
            Matcher m = p.matcher(s.substring(from, to));
            int prev = 0; // in code points within the piece
            while (m.find()) {
                int ms = cpOffset(charIndex, from, start, m.start());
                int me = cpOffset(charIndex, from, start, m.end());
                if (ms > prev) {
                    out.add(ms - prev);
                }
                if (me > ms) {
                    out.add(me - ms);
                }
                prev = me;
            }
            if (prev < len) {
                out.add(len - prev);
            }
            start += len;
        }
        return out;
    }

    private static int cpOffset(int[] charIndex, int fromChar, int startCp, int charInPiece) {
        if (charIndex == null) {
            return charInPiece;
        }
        int target = fromChar + charInPiece;
        int i = startCp;
        while (charIndex[i] < target) {
            i++;
        }
        return i - startCp;
    }

    /**
     * llama.cpp's translation of a {@code \p{..}} regex to one over the collapsed text, plus what Java needs beyond
     * ECMAScript: {@code $} outside a class means end of input only.
     */
    static String collapseRegex(String regex) {
        StringBuilder out = new StringBuilder();
        boolean inside = false;
        for (int i = 0; i < regex.length(); i++) {
            char c = regex.charAt(i);
            if (c == '[' && (i == 0 || regex.charAt(i - 1) != '\\')) {
                out.append('[');
                inside = true;
                continue;
            }
            if (inside && c == ']' && regex.charAt(i - 1) != '\\') {
                out.append(']');
                inside = false;
                continue;
            }
            if (c == '\\' && i + 3 < regex.length() && regex.charAt(i + 1) == 'p' && regex.charAt(i + 2) == '{') {
                int close = regex.indexOf('}', i + 3);
                if (close >= 0 && close <= i + 10) {
                    String cls = CATEGORY_CLASS.get(regex.substring(i, close + 1));
                    if (cls != null) {
                        out.append(inside ? cls : "[" + cls + "]");
                        i = close;
                        continue;
                    }
                }
            }
            if (c == '$' && !inside && (i == 0 || regex.charAt(i - 1) != '\\')) {
                out.append("\\z");
                continue;
            }
            out.append(c);
        }
        return out.toString();
    }

    /** A regex without categories, for Java: {@code $} outside a class means end of input only. */
    static String javaRegex(String regex) {
        return collapseRegex(regex);
    }
}
