package dev.bunshin.llama;

import dev.bunshin.engine.LayerRange;
import dev.bunshin.engine.gguf.GgmlType;
import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.engine.gguf.GgufKeys;
import dev.bunshin.engine.gguf.GgufTensor;
import dev.bunshin.models.gguf.GgufWriter;
import dev.bunshin.models.gguf.Quantizer;
import dev.bunshin.models.gguf.GgufWriter.ValueType;
import dev.bunshin.engine.model.TensorNames;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A shard GGUF: layers {@code [a, b)} of a model renumbered {@code blk.0 …}, for libllama to load as a whole model
 * of {@code b - a} layers. Written once per (model digest, range) into a cache directory and reused.
 *
 * <p>What a shard holds:
 * <ul>
 *   <li>its layers' tensors and the metadata, with {@code block_count = b - a} and per-layer arrays cut to the
 *       range;</li>
 *   <li>a stage that is not last: no vocabulary ({@code tokenizer.ggml.model = "none"}, so {@code n_vocab = 0}), a
 *       zero-row {@code token_embd} (the head llama.cpp builds is then {@code [0, nTokens]}: free) and
 *       {@code output_norm} (required by the loader, 4·nEmbd bytes). Its input is always hidden states: the first
 *       stage's tokens are embedded on the Java side from the original file;</li>
 *   <li>the last stage: the vocabulary, {@code output_norm} and the head. A tied head is written as
 *       {@code token_embd} (llama.cpp reuses it as the output); an untied one as {@code output}, plus
 *       {@code token_embd}, which the loader requires but an embedding-input stage never reads (with the weights
 *       read, {@link WeightLoading}, it costs the head's bytes once more in memory; mapped, only disk).</li>
 * </ul>
 */
final class ShardFile {
    private ShardFile() {}

    /**
     * Architectures whose layers can be cut here: llama.cpp's graph of a layer depends only on the layer's own
     * tensors and on per-layer metadata a shard rewrites (head counts, which layers use the sliding window).
     */
    static final List<String> CUTTABLE = List.of("llama", "qwen2", "qwen3", "qwen3moe", "gemma3", "gpt-oss");

    /**
     * The sliding-window layer pattern llama.cpp v0.5.0 assumes for an architecture when the file gives none
     * ({@code load_swa_pattern(ml, n)} in its {@code src/models/}): with {@code n}, layer {@code il} uses the window
     * unless {@code il % n == n - 1}. A shard renumbers its layers from 0, so it always carries the pattern of its
     * own layers as an array ({@code <arch>.attention.sliding_window_pattern}, which the loader reads first).
     */
    private static final Map<String, Integer> SWA_PATTERN = Map.of("gemma3", 6, "gpt-oss", 2);

    /** gemma3 27B: llama.cpp picks its attention scale by the layer count (62), which a shard does not have. */
    private static final int GEMMA3_27B_LAYERS = 62;

    private static final Pattern BLOCK = Pattern.compile("blk\\.(\\d+)\\.(.+)");

    /** The shard for {@code range} of {@code file} in {@code cacheDir}, written if absent. */
    static Path of(GgufFile file, LayerRange range, Path cacheDir) throws IOException {
        String arch = file.getString(GgufKeys.GENERAL_ARCHITECTURE);
        if (!CUTTABLE.contains(arch)) {
            throw new IllegalArgumentException("architecture " + arch + " of " + file.path() + " cannot be cut into stages by "
                    + "the llama.cpp backend yet (it cuts " + String.join(", ", CUTTABLE) + "); run it as one stage");
        }
        Files.createDirectories(cacheDir);
        Path shard = cacheDir.resolve(digest(file) + "-" + range.start() + "-" + range.end() + ".gguf");
        if (Files.isRegularFile(shard)) return shard;
        write(file, arch, range, shard);
        return shard;
    }

    /**
     * A digest of the model: SHA-256 of its size, header (metadata and tensor table) and first and last MiB of
     * tensor data; 16 hex digits. Cheap for a 30 GB file, and any re-quantisation or edit changes it.
     */
    static String digest(GgufFile file) throws IOException {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(Long.toString(file.size()).getBytes(StandardCharsets.US_ASCII));
            try (var ch = java.nio.channels.FileChannel.open(file.path())) {
                long[][] spans = {{0, file.dataOffset()}, {file.dataOffset(), 1 << 20}, {file.size() - (1 << 20), 1 << 20}};
                for (long[] s : spans) {
                    long start = Math.max(0, s[0]);
                    long len = Math.min(s[1], file.size() - start);
                    var buf = java.nio.ByteBuffer.allocate((int) Math.min(len, 64L << 20));
                    ch.read(buf, start);
                    buf.flip();
                    md.update(buf);
                }
            }
            return HexFormat.of().formatHex(md.digest(), 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void write(GgufFile file, String arch, LayerRange range, Path shard) throws IOException {
        int nLayers = file.getInt(GgufKeys.arch(arch, GgufKeys.BLOCK_COUNT));
        boolean last = range.isLast(nLayers);
        String patternKey = patternKey(arch);
        boolean[] swa = slidingWindowLayers(file, arch, nLayers);
        GgufWriter w = new GgufWriter();
        for (Map.Entry<String, Object> e : file.metadata().entrySet()) {
            String key = e.getKey();
            Object v = e.getValue();
            if (!last && (key.startsWith("tokenizer.") || key.equals(GgufKeys.arch(arch, GgufKeys.VOCAB_SIZE)))) continue;
            if (swa != null && key.equals(patternKey)) continue; // written below, for this shard's layers
            if (key.equals(GgufKeys.arch(arch, GgufKeys.BLOCK_COUNT))) {
                w.putUint32(key, range.size());
            } else if (key.startsWith(arch + ".") && v.getClass().isArray() && java.lang.reflect.Array.getLength(v) == nLayers) {
                put(w, key, slice(v, range)); // a per-layer value, e.g. head counts of each layer
            } else {
                put(w, key, v);
            }
        }
        if (!last) w.putString(GgufKeys.TOKENIZER_MODEL, "none");
        if (swa != null) w.putArray(patternKey, ValueType.BOOL, Arrays.copyOfRange(swa, range.start(), range.end()));
        float qScale = gemma3QueryScale(file, arch, nLayers, range);
        w.putString(GgufKeys.GENERAL_NAME, file.getString(GgufKeys.GENERAL_NAME, arch) + " layers " + range);

        GgufTensor embd = file.tensor(TensorNames.TOKEN_EMBD);
        GgufTensor output = file.tensorOrNull(TensorNames.OUTPUT);
        if (last) {
            GgufTensor head = output != null ? output : embd;
            add(w, TensorNames.TOKEN_EMBD, head);
            if (output != null) add(w, TensorNames.OUTPUT, output);
        } else {
            w.addTensor(TensorNames.TOKEN_EMBD, GgmlType.F32, new long[]{embd.dims()[0], 0}, new byte[0]);
            // Some architectures (gpt-oss) require an output tensor: zero rows, like the vocabulary.
            if (output != null) w.addTensor(TensorNames.OUTPUT, GgmlType.F32, new long[]{output.dims()[0], 0}, new byte[0]);
        }
        add(w, TensorNames.OUTPUT_NORM, file.tensor(TensorNames.OUTPUT_NORM));
        for (GgufTensor t : file.tensorList()) {
            Matcher m = BLOCK.matcher(t.name());
            if (m.matches()) {
                int il = Integer.parseInt(m.group(1));
                if (!range.contains(il)) continue;
                String name = "blk." + (il - range.start()) + "." + m.group(2);
                if (qScale != 1f && m.group(2).equals("attn_q_norm.weight")) scaled(w, name, t, qScale);
                else add(w, name, t);
            } else if (!t.name().equals(TensorNames.TOKEN_EMBD) && !t.name().equals(TensorNames.OUTPUT)
                    && !t.name().equals(TensorNames.OUTPUT_NORM)) {
                add(w, t.name(), t); // e.g. rope_freqs: shared by all layers
            }
        }
        w.write(shard);
    }

    /**
     * Adds a tensor, copied from the model's mapping when the shard is written. The copied pages are then unloaded
     * from this process (they stay in the page cache): a worker writing a 2 GB shard out of a 5 GB model would
     * otherwise keep both its source pages and, once loaded, the shard's resident, twice its layers' bytes.
     */
    private static void add(GgufWriter w, String name, GgufTensor t) {
        MemorySegment data = t.data();
        w.addTensor(name, t.type(), t.dims(), () -> {
            byte[] bytes = data.toArray(ValueLayout.JAVA_BYTE);
            if (data.isMapped()) data.unload();
            return bytes;
        });
    }

    /**
     * Which layers of the model use the sliding window, as llama.cpp decides it: a per-layer array in the file,
     * else the file's period, else the architecture's (gemma3: only when the file sets a window); null when the
     * architecture has no sliding window or the file turns it off.
     */
    static boolean[] slidingWindowLayers(GgufFile file, String arch, int nLayers) {
        Integer period = SWA_PATTERN.get(arch);
        if (period == null) return null;
        if (arch.equals("gemma3") && file.getInt(GgufKeys.arch(arch, "attention.sliding_window"), 0) <= 0) return null;
        String key = patternKey(arch);
        Object v = file.metadata().get(key);
        boolean[] swa = new boolean[nLayers];
        switch (v) {
            case boolean[] a when a.length == nLayers -> System.arraycopy(a, 0, swa, 0, nLayers);
            case int[] a when a.length == nLayers -> { for (int il = 0; il < nLayers; il++) swa[il] = a[il] != 0; }
            case long[] a when a.length == nLayers -> { for (int il = 0; il < nLayers; il++) swa[il] = a[il] != 0; }
            case Number n -> periodic(swa, n.intValue());
            case null -> periodic(swa, period);
            default -> throw new IllegalArgumentException(key + " of " + file.path() + " is " + v.getClass().getSimpleName()
                    + " with a length other than the " + nLayers + " layers; cannot cut the model");
        }
        return swa;
    }

    private static String patternKey(String arch) {
        return GgufKeys.arch(arch, "attention.sliding_window_pattern");
    }

    /** llama.cpp's {@code set_swa_pattern(n)}: every layer uses the window but each n-th (all of them for 0). */
    private static void periodic(boolean[] swa, int period) {
        for (int il = 0; il < swa.length; il++) swa[il] = period == 0 || il % period < period - 1;
    }

    /**
     * gemma3 scales queries by {@code 1/sqrt(nEmbd/nHead)} in its 27B model and {@code 1/sqrt(headDim)} otherwise,
     * choosing by the layer count. A shard of the 27B model would get the other scale, so its queries' norm weights
     * carry the ratio (RoPE is linear, so scaling the normed query before it is the same as after): the factor for
     * {@code attn_q_norm}, 1 when none is needed.
     */
    static float gemma3QueryScale(GgufFile file, String arch, int nLayers, LayerRange range) throws IOException {
        if (!arch.equals("gemma3") || nLayers != GEMMA3_27B_LAYERS || range.size() == nLayers) return 1f;
        int nEmbd = file.getInt(GgufKeys.arch(arch, GgufKeys.EMBEDDING_LENGTH));
        int nHead = file.getInt(GgufKeys.arch(arch, GgufKeys.HEAD_COUNT));
        int headDim = file.getInt(GgufKeys.arch(arch, GgufKeys.KEY_LENGTH), nEmbd / nHead);
        return (float) (Math.sqrt(headDim) / Math.sqrt((double) (nEmbd / nHead)));
    }

    /** An F32 tensor multiplied by {@code factor}. */
    private static void scaled(GgufWriter w, String name, GgufTensor t, float factor) {
        if (t.type() != GgmlType.F32) {
            throw new IllegalArgumentException(t.name() + " is " + t.type() + "; a gemma3 27B shard rescales it and needs F32");
        }
        MemorySegment data = t.data();
        w.addTensor(name, GgmlType.F32, t.dims(), () -> {
            float[] v = data.toArray(ValueLayout.JAVA_FLOAT_UNALIGNED);
            for (int i = 0; i < v.length; i++) v[i] *= factor;
            return Quantizer.quantize(GgmlType.F32, v, (int) t.dims()[0]);
        });
    }

    private static Object slice(Object array, LayerRange r) {
        Object out = java.lang.reflect.Array.newInstance(array.getClass().getComponentType(), r.size());
        System.arraycopy(array, r.start(), out, 0, r.size());
        return out;
    }

    /**
     * Copies a metadata value. {@link GgufFile} keeps values as Java types, so the GGUF type is inferred the way
     * llama.cpp's writer types them: {@code Long} uint32 (block_count, token ids), {@code Integer} int32,
     * {@code long[]} uint32 arrays, {@code int[]} int32 arrays (token types).
     */
    private static void put(GgufWriter w, String key, Object v) {
        switch (v) {
            case String s -> w.putString(key, s);
            case Boolean b -> w.putBool(key, b);
            case Long l -> {
                if (l >= 0 && l <= 0xFFFF_FFFFL) w.putUint32(key, l); else w.putInt64(key, l);
            }
            case Integer i -> w.putInt32(key, i);
            case Float f -> w.putFloat32(key, f);
            case Double d -> w.putFloat64(key, d);
            case String[] a -> w.putArray(key, ValueType.STRING, a);
            case int[] a -> w.putArray(key, ValueType.INT32, a);
            case long[] a -> w.putArray(key, ValueType.UINT32, a);
            case float[] a -> w.putArray(key, ValueType.FLOAT32, a);
            case double[] a -> w.putArray(key, ValueType.FLOAT64, a);
            case boolean[] a -> w.putArray(key, ValueType.BOOL, a);
            default -> throw new IllegalArgumentException("metadata " + key + " has a value of " + v.getClass().getSimpleName()
                    + " that a shard cannot copy");
        }
    }
}
