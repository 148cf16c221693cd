package dev.bunshin.llama;

import dev.bunshin.engine.EngineOptions;
import dev.bunshin.engine.LayerRange;
import dev.bunshin.engine.Pooling;
import dev.bunshin.engine.StageBackend;
import dev.bunshin.engine.StageInput;
import dev.bunshin.engine.StageInputCheck;
import dev.bunshin.engine.StageOutput;
import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.engine.model.TensorNames;
import dev.bunshin.engine.tensor.WeightMatrices;
import dev.bunshin.engine.tensor.WeightMatrix;
import dev.bunshin.models.plan.ByteSize;


import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A stage run by libllama: layers {@code [a, b)} of a GGUF model, many sequences per {@code llama_decode} (a llama
 * sequence id per job, positions per token).
 *
 * <ul>
 *   <li>The whole model ({@code [0, nLayers)}) loads the original file: tokens in, logits out.</li>
 *   <li>Any other range loads a {@link ShardFile} of that range. Hidden states go in through
 *       {@code llama_batch.embd} (the first stage embeds its tokens on the Java side, from the original file's
 *       {@code token_embd}); a stage that is not last captures its last layer's output ({@code l_out-<il>}) with
 *       the eval callback, with every token flagged for output (else llama.cpp drops the rows it thinks unused in
 *       the last layer); the last stage flags only each sequence's last position and returns its logits.</li>
 *   <li>An input that asks for its pooled part ({@link StageInput#pool}, a chunk of an embedding job) has every
 *       position flagged on the last stage: the output norm's result ({@code result_norm}, what llama.cpp's own
 *       embeddings are made of) is captured for those rows and pooled as the model says. Its rows also go through
 *       the head, which llama.cpp computes for every flagged row.</li>
 * </ul>
 * KV: one unified pool of {@code contextLength × maxSequences} cells, F16 (llama.cpp's default). A rewind
 * ({@code pos} below the cached length) drops the later positions ({@code llama_memory_seq_rm(seq, pos, -1)}).
 */
public final class LlamaCppStage implements StageBackend {

    /**
     * Run settings beyond {@link EngineOptions}.
     *
     * @param shardDir  where shard GGUFs are written and reused
     * @param gpuLayers layers to offload to a GPU backend (a GPU build of libllama); 0 keeps all on the CPU
     * @param batchTokens tokens per {@code llama_decode}; larger batches are split
     * @param kvBudgetBytes the most the KV pool may take (llama.cpp allocates it whole, up front): the pool holds
     *                      {@code maxSequences} sequences at the full context, or as many as fit this budget (at
     *                      least one), and the stage admits no more than that
     * @param loading   how the weights come into memory ({@link WeightLoading#chosen()} unless given)
     */
    public record Settings(Path shardDir, int gpuLayers, int batchTokens, long kvBudgetBytes, WeightLoading loading) {
        public Settings(Path shardDir, int gpuLayers, int batchTokens, long kvBudgetBytes) {
            this(shardDir, gpuLayers, batchTokens, kvBudgetBytes, WeightLoading.chosen());
        }

        public Settings(Path shardDir, int gpuLayers, int batchTokens) {
            this(shardDir, gpuLayers, batchTokens, defaultKvBudget());
        }

        /**
         * {@code -Dbunshin.shard.dir}, else {@code ~/.cache/bunshin/shards}; 512 tokens per decode; layers on a GPU:
         * {@code -Dbunshin.llama.gpu-layers} / {@code BUNSHIN_LLAMA_GPU_LAYERS}, else all of the shard's when the
         * libllama in use is a GPU build (a GPU backend library beside it), else none.
         */
        public static Settings defaults() {
            String dir = System.getProperty("bunshin.shard.dir");
            return new Settings(dir != null ? Path.of(dir)
                    : Path.of(System.getProperty("user.home"), ".cache", "bunshin", "shards"), defaultGpuLayers(), 512);
        }

        /**
         * {@code -Dbunshin.llama.kv-budget} / {@code BUNSHIN_LLAMA_KV_BUDGET} (bytes, or with a K/M/G suffix), else a
         * quarter of this machine's memory: 64 sequences at a model's full context (32k for qwen2.5, 256k for
         * qwen3-coder) would be hundreds of GB.
         */
        static long defaultKvBudget() {
            LlamaRelease.Setting given = LlamaRelease.Setting.of("bunshin.llama.kv-budget", "BUNSHIN_LLAMA_KV_BUDGET");
            if (given != null) {
                try {
                    return ByteSize.parse(given.value());
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(given.source() + " must be a size in bytes (e.g. 4G, 512M), got '"
                            + given.value() + "'");
                }
            }
            if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os && os.getTotalMemorySize() > 0) {
                return os.getTotalMemorySize() / 4;
            }
            return 4L << 30;
        }

        /** A GPU backend of a libllama build, as llama.cpp names its library file. */
        static final List<String> GPU_BACKENDS = List.of("libggml-cuda.so", "libggml-vulkan.so", "libggml-hip.so",
                "libggml-metal.so", "libggml-sycl.so", "ggml-cuda.dll", "ggml-vulkan.dll", "libggml-metal.dylib");

        static int defaultGpuLayers() {
            LlamaRelease.Setting given = LlamaRelease.Setting.of("bunshin.llama.gpu-layers", "BUNSHIN_LLAMA_GPU_LAYERS");
            if (given != null) {
                try {
                    int n = Integer.parseInt(given.value());
                    if (n >= 0) return n;
                } catch (NumberFormatException e) {
                    // reported below
                }
                throw new IllegalArgumentException(given.source() + " must be a number of layers >= 0, got '"
                        + given.value() + "'");
            }
            try {
                Path dir = LlamaRelease.locate().getParent();
                for (String lib : GPU_BACKENDS) if (Files.exists(dir.resolve(lib))) return 999;
            } catch (LlamaUnavailableException e) {
                // no library: nothing to offload to
            }
            return 0;
        }
    }

    private final LayerRange range;
    private final ModelShape config;
    private final EngineOptions options;
    private final NativeModel model;
    private final boolean whole;
    private final WeightMatrix tokenEmbd; // [nVocab, nEmbd] of the original file: the first shard's input; null otherwise
    private final float inputScale;      // of a first shard's embedded rows: gemma3's graph scales token input only
    private final String describe;
    private final int contextLength;
    private final Map<Long, Integer> seqIds = new HashMap<>();   // job sequence -> llama seq id
    private final Map<Long, Integer> lengths = new HashMap<>();  // job sequence -> cached positions
    private final Deque<Integer> freeIds = new ArrayDeque<>();
    private final int sequences; // what the KV pool holds at the full context
    private final RowPadding padding; // rows added to a decode: the spare sequence, id `sequences`, holds them
    private final Pooling pooling;    // last stage: how an asking input's rows are pooled; null elsewhere or for a reranker

    private LlamaCppStage(LayerRange range, ModelShape config, EngineOptions options, NativeModel model, boolean whole,
                          WeightMatrix tokenEmbd, float inputScale, String describe, int sequences, RowPadding padding,
                          Pooling pooling) {
        this.pooling = pooling;
        this.sequences = sequences;
        this.padding = padding;
        this.range = range;
        this.config = config;
        this.options = options;
        this.model = model;
        this.whole = whole;
        this.tokenEmbd = tokenEmbd;
        this.inputScale = inputScale;
        this.describe = describe;
        this.contextLength = options.contextLength() > 0 ? options.contextLength() : config.contextLength();
        for (int i = 0; i < sequences; i++) freeIds.add(i);
    }

    /**
     * Sequences the KV pool holds at {@code context} positions each: {@code maxSequences}, or as many as fit
     * {@code budgetBytes} (at least one).
     */
    static int sequencesWithin(long budgetBytes, int context, int layers, int kvDim, int maxSequences) {
        long perSequence = context * kvBytesPerCell(layers, kvDim);
        return (int) Math.max(1, Math.min(maxSequences, budgetBytes / Math.max(1, perSequence)));
    }

    /**
     * Loads {@code range} of {@code file} in libllama. The file must stay open while the stage is used (a first
     * stage embeds from it).
     *
     * @throws LlamaUnavailableException if there is no libllama of the pinned release
     * @throws IllegalArgumentException  naming the architecture if it cannot be cut at {@code range}
     */
    public static LlamaCppStage load(GgufFile file, LayerRange range, EngineOptions options, Settings settings)
            throws IOException {
        ModelShape config = ModelShape.of(file);
        if (range.end() > config.nLayers()) {
            throw new IllegalArgumentException("range " + range + " beyond the " + config.nLayers() + " layers of " + file.path());
        }
        LlamaLibrary lib = LlamaLibrary.get();
        boolean whole = range.isFirst() && range.isLast(config.nLayers());
        boolean last = range.isLast(config.nLayers());
        Path gguf = whole ? file.path() : ShardFile.of(file, range, settings.shardDir());
        int context = options.contextLength() > 0 ? options.contextLength() : config.contextLength();
        int nBatch = Math.max(1, settings.batchTokens());
        int sequences = sequencesWithin(settings.kvBudgetBytes(), context, range.size(), config.kvDim(), options.maxSequences());
        RowPadding padding = RowPadding.of(file, range, settings.gpuLayers(), sequences);
        int spare = padding.on() ? 1 : 0; // a sequence, and its cells, for the added rows
        NativeModel model = NativeModel.load(gguf, new NativeModel.Settings(options.threads(),
                context * sequences + spare * RowPadding.MAX_EXTRA, sequences + spare, nBatch,
                last ? NativeModel.OUTPUT_NORM : range.size() - 1, settings.gpuLayers(), NativeModel.NO_EMBEDDINGS,
                settings.loading()));
        try {
            if (model.nEmbd() != config.nEmbd() || model.nLayer() != range.size()) {
                throw new IllegalStateException(gguf + " loads as " + model.nLayer() + " layers of " + model.nEmbd()
                        + "; expected " + range.size() + " of " + config.nEmbd());
            }
            if (last && model.nVocab() != config.nVocab()) {
                throw new IllegalStateException(gguf + " has a vocabulary of " + model.nVocab() + "; expected " + config.nVocab());
            }
            WeightMatrix embd = range.isFirst() && !whole ? WeightMatrices.of(file, file.tensor(TensorNames.TOKEN_EMBD)) : null;
            // gemma3 multiplies token embeddings by sqrt(nEmbd) and leaves embedding input alone (v0.5.0's
            // `ubatch.token ? sqrtf(n_embd) : 1.0f`): a first shard, fed rows embedded here, scales them itself.
            float scale = config.architecture().equals("gemma3") && range.isFirst() ? (float) Math.sqrt(config.nEmbd()) : 1f;
            String d = lib.describe() + "; " + (whole ? "whole model " + file.path().getFileName()
                    : "shard " + gguf.getFileName() + " (layers " + range + (last ? ", vocabulary and head" : ", no vocabulary") + ")")
                    + "; " + model.desc() + "; " + options.threads() + " threads, n_ctx " + model.nCtx() + " ("
                    + sequences + " sequence(s) of " + context + (sequences < options.maxSequences()
                    ? ", fewer than the " + options.maxSequences() + " asked: the KV budget is " + (settings.kvBudgetBytes() >> 20)
                    + " MiB, bunshin.llama.kv-budget" : "") + ")"
                    + (settings.gpuLayers() > 0 ? ", n_gpu_layers " + settings.gpuLayers() : ", on the CPU")
                    + (padding.on() ? ", rows padded to a multiple of 4" : "");
            return new LlamaCppStage(range, config, options, model, whole, embd, scale, d, sequences, padding,
                    last ? Pooling.orNull(file) : null);
        } catch (RuntimeException | IOException e) {
            model.close();
            throw e;
        }
    }

    @Override
    public String backend() {
        return "llama.cpp";
    }

    @Override
    public String describe() {
        return describe;
    }

    @Override
    public LayerRange range() {
        return range;
    }

    @Override
    public int nLayers() {
        return config.nLayers();
    }

    @Override
    public int nEmbd() {
        return config.nEmbd();
    }

    @Override
    public int nVocab() {
        return config.nVocab();
    }

    @Override
    public int contextLength() {
        return contextLength;
    }

    @Override
    public synchronized List<StageOutput> forward(List<StageInput> batch) {
        int e = config.nEmbd();
        boolean first = range.isFirst();
        boolean last = range.isLast(config.nLayers());
        Set<Long> seen = new HashSet<>();
        int newSequences = 0;
        for (StageInput in : batch) {
            StageInputCheck.check(in, range, config.nEmbd(), config.nVocab(), lengths.getOrDefault(in.seqId(), 0),
                    contextLength, seen);
            if (!seqIds.containsKey(in.seqId())) newSequences++;
        }
        if (newSequences > freeIds.size()) {
            throw new IllegalArgumentException("batch would hold " + (seqIds.size() + newSequences)
                    + " sequences; this stage's KV pool holds " + sequences);
        }
        // Rewinds first: re-run positions replace the cached ones.
        for (StageInput in : batch) {
            Integer id = seqIds.get(in.seqId());
            if (id != null && in.pos() < lengths.get(in.seqId())) {
                model.seqRm(id, in.pos());
                lengths.put(in.seqId(), in.pos());
            }
        }
        List<StageOutput> out = new ArrayList<>(batch.size());
        int nBatch = model.nBatch();
        // Chunks of at most nBatch tokens; a long input spans several chunks, a chunk holds several inputs.
        int i = 0;
        int offset = 0; // tokens of batch[i] already decoded
        float[][] acts = new float[batch.size()][];
        float[][] logits = new float[batch.size()][];
        float[][] normed = new float[batch.size()][]; // F32 [nTokens, nEmbd] after the output norm, of inputs asking
        int remaining = 0;
        for (StageInput in : batch) remaining += in.nTokens(e);
        while (i < batch.size()) {
            int size = Math.min(nBatch, remaining); // tokens in this chunk
            remaining -= size;
            int pad = padding.extra(size, nBatch - size); // rows added after the chunk's own (RowPadding)
            int[] tok = whole ? new int[size + pad] : null;
            float[] embd = whole ? null : new float[(size + pad) * e]; // F32 [size + pad, nEmbd]
            int[] pos = new int[size + pad];
            int[] seq = new int[size + pad];
            boolean[] output = new boolean[size + pad];
            List<int[]> parts = new ArrayList<>(); // {input index, first token, count, row in chunk, first output}
            int n = 0;
            int outputs = 0; // rows flagged so far: a last stage's captured rows are these, in order
            while (i < batch.size() && n < size) {
                StageInput in = batch.get(i);
                int total = in.nTokens(e);
                int take = Math.min(total - offset, size - n);
                int id = seqIds.computeIfAbsent(in.seqId(), s -> freeIds.pop());
                int firstOutput = outputs;
                for (int t = 0; t < take; t++) {
                    int r = n + t;
                    pos[r] = in.pos() + offset + t;
                    seq[r] = id;
                    output[r] = !last || offset + t == total - 1 || in.pool();
                    if (output[r]) outputs++;
                    if (whole) {
                        tok[r] = in.tokens()[offset + t];
                    } else if (first) {
                        tokenEmbd.dequantizeRow(in.tokens()[offset + t], embd, r * e);
                        if (inputScale != 1f) for (int k = r * e; k < (r + 1) * e; k++) embd[k] *= inputScale;
                    } else {
                        System.arraycopy(in.activations(), (offset + t) * e, embd, r * e, e);
                    }
                }
                parts.add(new int[]{i, offset, take, n, firstOutput});
                n += take;
                offset += take;
                if (offset == total) {
                    i++;
                    offset = 0;
                }
            }
            for (int r = n; r < n + pad; r++) { // copies of the last row, positions 0.. of the spare sequence
                pos[r] = r - n;
                seq[r] = sequences;
                output[r] = !last; // a capturing stage needs every row flagged; a last stage wants no logits of them
                if (whole) tok[r] = tok[n - 1];
                else System.arraycopy(embd, (n - 1) * e, embd, r * e, e);
            }
            try {
                model.decode(tok, embd, pos, seq, output, n + pad);
            } finally {
                if (pad > 0) model.seqRm(sequences, 0);
            }
            for (int[] p : parts) {
                StageInput in = batch.get(p[0]);
                int total = in.nTokens(e);
                if (last) {
                    if (p[1] + p[2] == total) logits[p[0]] = model.logits(p[3] + p[2] - 1);
                    // No rows captured: this architecture's graph names no result_norm (the job then fails, saying so).
                    if (in.pool() && pooling != null && model.capturedRows() > 0) {
                        if (normed[p[0]] == null) normed[p[0]] = new float[total * e];
                        float[] rows = model.captured(p[4], p[2]); // F32 [take, nEmbd]
                        System.arraycopy(rows, 0, normed[p[0]], p[1] * e, rows.length);
                    }
                } else {
                    if (acts[p[0]] == null) acts[p[0]] = new float[total * e];
                    float[] rows = model.captured(p[3], p[2]); // F32 [take, nEmbd]
                    System.arraycopy(rows, 0, acts[p[0]], p[1] * e, rows.length);
                }
            }
        }
        for (int k = 0; k < batch.size(); k++) {
            StageInput in = batch.get(k);
            int n = in.nTokens(e);
            lengths.put(in.seqId(), in.pos() + n);
            float[] pooled = normed[k] == null ? null : pooling.partial(normed[k], in.pos(), n, e);
            out.add(new StageOutput(in.seqId(), in.pos(), n, last ? null : acts[k], last ? logits[k] : null, pooled));
        }
        return out;
    }

    /** Every flagged position goes through the head too: only inputs that ask are pooled. */
    @Override
    public boolean poolsOnRequest() {
        return true;
    }

    @Override
    public synchronized void free(long seqId) {
        Integer id = seqIds.remove(seqId);
        if (id == null) return;
        lengths.remove(seqId);
        model.seqRm(id, 0);
        freeIds.push(id);
    }

    @Override
    public int sequenceCapacity() {
        return sequences;
    }

    @Override
    public synchronized int sequenceCount() {
        return seqIds.size();
    }

    @Override
    public synchronized int cachedLength(long seqId) {
        return lengths.getOrDefault(seqId, 0);
    }

    /** The KV pool llama.cpp allocated: n_ctx cells. */
    @Override
    public long kvBytes() {
        return model.nCtx() * kvBytesPerCell(range.size(), config.kvDim());
    }

    /** One KV cell: a position of every layer of the range, K and V of {@code kvDim} each, F16. */
    static long kvBytesPerCell(int layers, int kvDim) {
        return layers * 2L * kvDim * 2L;
    }

    @Override
    public synchronized void close() {
        model.close();
    }
}
