package dev.bunshin.engine;

import dev.bunshin.engine.model.Architecture;
import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.engine.kv.KvCache;
import dev.bunshin.engine.model.SequenceSlice;
import dev.bunshin.engine.model.StageWeights;
import dev.bunshin.engine.model.Transformer;
import dev.bunshin.engine.tensor.Parallel;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Runs one contiguous layer range of a GGUF model over a batch of sequences at different positions
 * (prefill chunks and decode steps mixed in one call). Keeps a KV cache per sequence for its own layers only.
 *
 * <p>Loading touches only this range's tensors, plus the token embedding for the first stage and the output
 * norm/head for the last. Splitting a model into any number of stages gives bit-identical logits, and so does
 * batching a sequence with others or changing the thread count.
 *
 * <p>Calls are serialised (one {@link #forward} at a time).
 */
public final class StageRunner implements StageBackend {

    private final GgufFile file;
    private final ModelConfig config;
    private final LayerRange range;
    private final EngineOptions options;
    private final int contextLength;
    private final Parallel pool;
    private final Transformer transformer;
    /** The model's pooling (last stage only: null elsewhere). */
    private final Pooling pooling;
    private final Map<Long, KvCache> caches = new HashMap<>();

    private StageRunner(GgufFile file, ModelConfig config, LayerRange range, EngineOptions options,
                        StageWeights weights, Pooling pooling) {
        this.file = file;
        this.config = config;
        this.range = range;
        this.options = options;
        this.contextLength = options.contextLength() > 0 ? options.contextLength() : config.contextLength();
        this.pool = new Parallel(options.threads());
        this.transformer = new Transformer(config, weights, pool);
        this.pooling = pooling;
    }

    /** Loads {@code range} of the model in {@code file}. The file must stay open while the runner is used. */
    public static StageRunner load(GgufFile file, LayerRange range, EngineOptions options) throws IOException {
        ModelConfig config = Architecture.readConfig(file);
        StageWeights weights = StageWeights.load(file, config, range);
        Pooling pooling = range.isLast(config.nLayers()) ? Pooling.orNull(file) : null;
        return new StageRunner(file, config, range, options, weights, pooling);
    }

    /** What the file says about the model. */
    public ModelConfig config() {
        return config;
    }

    @Override
    public String backend() {
        return "java";
    }

    @Override
    public String describe() {
        return "java engine (Vector API), " + options.threads() + " threads";
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

    /** Positions a sequence may hold: the option, or the model's trained context. */
    @Override
    public int contextLength() {
        return contextLength;
    }

    /**
     * Runs the batch. Each input's positions must continue its sequence: {@code pos} equals the number of
     * positions already cached for that sequence, or less (re-running positions overwrites them and drops the
     * later ones, so a redelivered record is harmless). Outputs are in input order.
     *
     * @throws IllegalArgumentException naming the sequence if a position is out of the context or the input
     *                                  is of the wrong kind for this stage
     */
    @Override
    public synchronized List<StageOutput> forward(List<StageInput> batch) {
        int e = config.nEmbd();
        boolean first = range.isFirst();
        boolean last = range.isLast(config.nLayers());
        int nTok = 0;
        Set<Long> seen = new HashSet<>();
        int newSequences = 0;
        for (StageInput in : batch) {
            check(in, seen);
            if (!caches.containsKey(in.seqId())) newSequences++;
            nTok += in.nTokens(e);
        }
        if (caches.size() + newSequences > options.maxSequences()) {
            throw new IllegalArgumentException("batch would hold " + (caches.size() + newSequences)
                    + " sequences; maxSequences is " + options.maxSequences());
        }
        float[] x = new float[nTok * e]; // F32 [nTok, nEmbd]: every token of the batch, stacked
        List<SequenceSlice> slices = new ArrayList<>(batch.size());
        int row = 0;
        for (StageInput in : batch) {
            int n = in.nTokens(e);
            KvCache cache = caches.computeIfAbsent(in.seqId(),
                    id -> new KvCache(range.size(), config.kvDim(), contextLength));
            cache.reserve(in.pos() + n);
            if (first) {
                transformer.embed(in.tokens(), x, row);
            } else {
                System.arraycopy(in.activations(), 0, x, row * e, n * e);
            }
            slices.add(new SequenceSlice(cache, in.pos(), row, n));
            row += n;
        }
        transformer.layers(x, nTok, slices);
        for (SequenceSlice s : slices) {
            s.cache().setLength(s.pos() + s.n());
        }

        List<StageOutput> out = new ArrayList<>(batch.size());
        if (last) {
            int[] lastRows = new int[slices.size()];
            for (int i = 0; i < slices.size(); i++) {
                lastRows[i] = slices.get(i).row() + slices.get(i).n() - 1;
            }
            float[] logits = transformer.head(x, lastRows); // F32 [nInputs, nVocab]
            int nVocab = config.nVocab();
            for (int i = 0; i < batch.size(); i++) {
                StageInput in = batch.get(i);
                SequenceSlice s = slices.get(i);
                float[] l = new float[nVocab];
                System.arraycopy(logits, i * nVocab, l, 0, nVocab);
                // Every position's normed state, pooled per chunk: O(n·nEmbd), small beside the layers' O(n·nEmbd²).
                float[] pooled = pooling == null ? null : pooling.partial(transformer.outputNorm(x, s.row(), s.n()), in.pos(), s.n(), e);
                out.add(new StageOutput(in.seqId(), in.pos(), s.n(), null, l, pooled));
            }
        } else {
            for (int i = 0; i < batch.size(); i++) {
                StageInput in = batch.get(i);
                SequenceSlice s = slices.get(i);
                float[] a = new float[s.n() * e];
                System.arraycopy(x, s.row() * e, a, 0, a.length);
                out.add(new StageOutput(in.seqId(), in.pos(), s.n(), a, null));
            }
        }
        return out;
    }

    private void check(StageInput in, Set<Long> seen) {
        KvCache cache = caches.get(in.seqId());
        StageInputCheck.check(in, range, config.nEmbd(), config.nVocab(), cache == null ? 0 : cache.length(), contextLength,
                seen);
    }

    /** Frees the sequence's KV cache; a no-op if the sequence is unknown. */
    @Override
    public synchronized void free(long seqId) {
        caches.remove(seqId);
    }

    /** Number of sequences holding a KV cache. */
    @Override
    public synchronized int sequenceCount() {
        return caches.size();
    }

    /** Positions cached for a sequence (0 if unknown). */
    @Override
    public synchronized int cachedLength(long seqId) {
        KvCache c = caches.get(seqId);
        return c == null ? 0 : c.length();
    }

    /** Bytes held by all KV caches of this stage. */
    @Override
    public synchronized long kvBytes() {
        long b = 0;
        for (KvCache c : caches.values()) b += c.bytes();
        return b;
    }

    @Override
    public void close() {
        pool.close();
        synchronized (this) {
            caches.clear();
        }
    }
}
