package dev.bunshin.models.catalog;

import dev.bunshin.engine.gguf.GgmlType;
import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.engine.gguf.GgufKeys;
import dev.bunshin.engine.gguf.GgufTensor;
import dev.bunshin.engine.ModelConfig;
import dev.bunshin.engine.model.Architecture;
import dev.bunshin.engine.tokenizer.Tokenizer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * What a GGUF file holds, read leniently (a missing key gives 0 or null, never an exception) so that
 * {@code inspect} and {@code models} can describe any file, including ones the engine cannot run; for those,
 * {@link #unsupportedReason()} says why.
 *
 * @param path              the file
 * @param fileSize          bytes
 * @param ggufVersion       2 or 3
 * @param architecture      {@code general.architecture}, or null
 * @param name              {@code general.name}, or null
 * @param nLayers           blocks
 * @param nEmbd             embedding length
 * @param nHead             attention heads
 * @param nHeadKv           key/value heads
 * @param headDim           dimension per head ({@code attention.key_length}, else nEmbd / nHead)
 * @param nFf               feed-forward length
 * @param nVocab            vocabulary size ({@code <arch>.vocab_size}, else the token list)
 * @param contextLength     trained context length
 * @param tokenizerModel    {@code tokenizer.ggml.model}, or null
 * @param chatTemplate      {@code tokenizer.chat_template} (a Jinja template), or null
 * @param fileType          {@code general.file_type}, or -1
 * @param parameterCount    elements of all tensors
 * @param types             tensor count and bytes per type
 * @param unsupportedReason null if the engine can run the file, else why not
 */
public record ModelInfo(Path path, long fileSize, int ggufVersion, String architecture, String name, int nLayers,
                        int nEmbd, int nHead, int nHeadKv, int headDim, int nFf, int nVocab, int contextLength,
                        String tokenizerModel, String chatTemplate, int fileType, long parameterCount,
                        Map<GgmlType, TypeStats> types,
                        String unsupportedReason) {

    /** Architectures the engine has a forward pass for. */
    public static final Set<String> SUPPORTED_ARCHITECTURES = Architecture.ALL.stream().map(Architecture::name)
            .collect(Collectors.toUnmodifiableSet());

    /** Number of tensors and their bytes, for one type. */
    public record TypeStats(int count, long bytes) {}

    public ModelInfo {
        types = Collections.unmodifiableMap(new EnumMap<>(types));
    }

    public boolean runnable() {
        return unsupportedReason == null;
    }

    /** Opens, reads and closes the file. */
    public static ModelInfo read(Path path) throws IOException {
        try (GgufFile f = GgufFile.open(path)) {
            return of(f);
        }
    }

    /** Reads what {@code f} says. */
    public static ModelInfo of(GgufFile f) {
        String arch = f.getString(GgufKeys.GENERAL_ARCHITECTURE, null);
        String a = arch == null ? "" : arch;
        int nLayers = intKey(f, GgufKeys.arch(a, GgufKeys.BLOCK_COUNT));
        int nEmbd = intKey(f, GgufKeys.arch(a, GgufKeys.EMBEDDING_LENGTH));
        int nHead = intKey(f, GgufKeys.arch(a, GgufKeys.HEAD_COUNT));
        int nHeadKv = intKey(f, GgufKeys.arch(a, GgufKeys.HEAD_COUNT_KV));
        if (nHeadKv == 0) nHeadKv = nHead;
        int headDim = intKey(f, GgufKeys.arch(a, GgufKeys.KEY_LENGTH));
        if (headDim == 0 && nHead > 0) headDim = nEmbd / nHead;
        int nFf = intKey(f, GgufKeys.arch(a, GgufKeys.FEED_FORWARD_LENGTH));
        int nVocab = intKey(f, GgufKeys.arch(a, GgufKeys.VOCAB_SIZE));
        if (nVocab == 0 && f.get(GgufKeys.TOKENIZER_TOKENS) instanceof String[] tokens) nVocab = tokens.length;
        int ctx = intKey(f, GgufKeys.arch(a, GgufKeys.CONTEXT_LENGTH));
        String tokenizer = f.getString(GgufKeys.TOKENIZER_MODEL, null);
        String template = f.getString(GgufKeys.TOKENIZER_CHAT_TEMPLATE, null);
        int fileType = f.get(GgufKeys.GENERAL_FILE_TYPE) instanceof Number n ? n.intValue() : -1;

        Map<GgmlType, TypeStats> types = new EnumMap<>(GgmlType.class);
        long params = 0;
        for (GgufTensor t : f.tensors().values()) {
            params += t.elementCount();
            types.merge(t.type(), new TypeStats(1, t.byteSize()),
                    (x, y) -> new TypeStats(x.count + y.count, x.bytes + y.bytes));
        }
        ModelInfo partial = new ModelInfo(f.path(), f.size(), f.version(), arch, f.getString(GgufKeys.GENERAL_NAME, null),
                nLayers, nEmbd, nHead, nHeadKv, headDim, nFf, nVocab, ctx, tokenizer, template, fileType, params, types, null);
        String reason = unsupportedReason(f, partial);
        return reason == null ? partial : new ModelInfo(f.path(), f.size(), f.version(), arch, partial.name, nLayers,
                nEmbd, nHead, nHeadKv, headDim, nFf, nVocab, ctx, tokenizer, template, fileType, params, types, reason);
    }

    /** An integer key; per-layer arrays (some models vary heads by layer) give their largest value; absent gives 0. */
    private static int intKey(GgufFile f, String key) {
        Object v = f.get(key);
        if (v instanceof Number n) return n.intValue();
        if (v instanceof int[] arr) return java.util.Arrays.stream(arr).max().orElse(0);
        if (v instanceof long[] arr) return (int) java.util.Arrays.stream(arr).max().orElse(0);
        return 0;
    }

    private static String unsupportedReason(GgufFile f, ModelInfo m) {
        if (m.architecture == null) {
            return "no " + GgufKeys.GENERAL_ARCHITECTURE + " in the file";
        }
        if (f.tensors().isEmpty()) {
            return "no tensors (a vocabulary-only file)";
        }
        if (!SUPPORTED_ARCHITECTURES.contains(m.architecture)) {
            return "architecture " + m.architecture + " is not supported (supported: "
                    + String.join(", ", SUPPORTED_ARCHITECTURES.stream().sorted().toList()) + ")";
        }
        if (m.nLayers <= 0 || m.nEmbd <= 0 || m.nHead <= 0) {
            return "missing hyperparameters: " + m.architecture + ".block_count/embedding_length/attention.head_count";
        }
        List<String> badTypes = new ArrayList<>();
        for (GgmlType t : m.types.keySet()) {
            if (!t.supported) badTypes.add(t.name());
        }
        if (!badTypes.isEmpty()) {
            String example = f.tensors().values().stream().filter(t -> !t.type().supported).findFirst()
                    .map(GgufTensor::name).orElse("?");
            return "tensor type " + String.join(", ", badTypes) + " is not supported (e.g. tensor " + example
                    + "; supported: " + GgmlType.supportedNames() + ")";
        }
        if (m.tokenizerModel == null) {
            return "no tokenizer in the file (" + GgufKeys.TOKENIZER_MODEL + ")";
        }
        // The engine's own readers have the last word (missing keys, unknown pre-tokenizers, ...).
        try {
            Architecture.readConfig(f);
        } catch (RuntimeException | IOException e) {
            return "hyperparameters: " + e.getMessage();
        }
        try {
            Tokenizer.fromGguf(f);
        } catch (RuntimeException | IOException e) {
            return "tokenizer: " + e.getMessage();
        }
        return null;
    }

    /** The most specific quantization label: {@code general.file_type}'s name, else the type holding most bytes. */
    public String quantization() {
        String ft = FileType.name(fileType);
        if (ft != null) return ft;
        return dominantType() == null ? "-" : dominantType().name();
    }

    /** The tensor type that holds the most bytes, or null without tensors. */
    public GgmlType dominantType() {
        return types.entrySet().stream().max(Map.Entry.comparingByValue(
                        java.util.Comparator.comparingLong(TypeStats::bytes)))
                .map(Map.Entry::getKey).orElse(null);
    }

    /** Tensor bytes in all. */
    public long tensorBytes() {
        return types.values().stream().mapToLong(TypeStats::bytes).sum();
    }

    /** {@code 260K}, {@code 1.1B}. */
    public static String formatCount(long n) {
        if (n < 1000) return Long.toString(n);
        String[] units = {"K", "M", "B", "T"};
        double v = n;
        int u = -1;
        while (v >= 1000 && u < units.length - 1) {
            v /= 1000;
            u++;
        }
        return String.format(Locale.ROOT, v >= 100 ? "%.0f%s" : v >= 10 ? "%.1f%s" : "%.2f%s", v, units[u]);
    }
}
