package dev.bunshin.llama;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.invoke.MethodType;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * One GGUF loaded in libllama with one context: {@code llama_model} + {@code llama_context} + a {@code llama_batch}.
 * Speaks Java types; the only place above {@link LlamaLibrary} that touches {@link MemorySegment}s.
 *
 * <p>Optionally captures the output of one layer ({@code l_out-<il>}, F32 {@code [nTokens, nEmbd]}) with the eval
 * callback, for a stage that hands hidden states on, or the final hidden states after the output norm
 * ({@code result_norm}, one row per token flagged for output), for a last stage that pools embeddings. Not
 * thread-safe: one {@link #decode} at a time.
 */
final class NativeModel implements AutoCloseable {

    /**
     * What the run chooses (llama.cpp's cparams).
     *
     * @param nCtx         KV cells in all (unified across sequences)
     * @param nSeqMax      sequences the context may hold at once
     * @param nBatch       tokens one {@link #decode} may carry (also the physical batch)
     * @param captureLayer the layer whose output {@link #captured} returns, {@link #OUTPUT_NORM} for the output
     *                     norm's, or -1
     * @param gpuLayers    layers to offload to a GPU backend (0 on a CPU build)
     * @param pooling      {@link #NO_EMBEDDINGS}, or a {@code llama_pooling_type} for a context with
     *                     {@code embeddings} on, whose pooled vectors {@link #embeddingsSeq} reads
     * @param loading      how the weights come into memory
     */
    record Settings(int threads, int nCtx, int nSeqMax, int nBatch, int captureLayer, int gpuLayers, int pooling,
                    WeightLoading loading) {
        /** Weights read ({@link WeightLoading#READ}); a stage passes what its settings chose. */
        Settings(int threads, int nCtx, int nSeqMax, int nBatch, int captureLayer, int gpuLayers, int pooling) {
            this(threads, nCtx, nSeqMax, nBatch, captureLayer, gpuLayers, pooling, WeightLoading.READ);
        }

        /** No embeddings: the context gives logits. */
        Settings(int threads, int nCtx, int nSeqMax, int nBatch, int captureLayer, int gpuLayers) {
            this(threads, nCtx, nSeqMax, nBatch, captureLayer, gpuLayers, NO_EMBEDDINGS);
        }
    }

    /** {@link Settings#captureLayer}: the output norm's result ({@code result_norm}), the last stage's hidden states. */
    static final int OUTPUT_NORM = -3;

    /** {@link Settings#pooling}: the context gives logits, not embeddings. */
    static final int NO_EMBEDDINGS = -2;
    /** {@link Settings#pooling}: llama.h's {@code LLAMA_POOLING_TYPE_MEAN} (NONE 0, MEAN 1, CLS 2, LAST 3). */
    static final int POOLING_MEAN = 1;

    private static final Map<Long, NativeModel> CAPTURING = new ConcurrentHashMap<>();
    private static final AtomicLong NEXT_ID = new AtomicLong(1);
    private static volatile MemorySegment evalStub;

    private final LlamaLibrary lib;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment model;
    private final MemorySegment ctx;
    private final MemorySegment memory;
    private final int nEmbd;
    private final int nLayer;
    private final int nVocab;
    private final int nCtx;
    private final int nBatch;
    private final long id;
    private final String captureName;
    private final MemorySegment captureNameBytes; // captureName, NUL-terminated: compared to ggml's tensor names in place
    private final boolean everyRowCaptured;       // l_out of a stage that hands on: every token flagged for output
    private MemorySegment tokenBatch;  // struct llama_batch with token[]
    private MemorySegment embdBatch;   // struct llama_batch with embd[]
    private final MemorySegment captureBuf; // F32 [nBatch, nEmbd]: the captured layer's output
    private int capturedRows;

    private NativeModel(LlamaLibrary lib, Path gguf, Settings s) {
        this.lib = lib;
        try {
            MemorySegment mp = (MemorySegment) lib.modelDefaultParams.invokeExact((SegmentAllocator) arena);
            LlamaLayouts.MP_N_GPU_LAYERS.set(mp, 0L, s.gpuLayers());
            LlamaLayouts.MP_LOAD_MODE.set(mp, 0L, s.loading().llamaValue);
            MemorySegment m = (MemorySegment) lib.modelLoadFromFile.invokeExact(arena.allocateFrom(gguf.toString()), mp);
            if (m.equals(MemorySegment.NULL)) {
                arena.close();
                throw new IllegalArgumentException("llama.cpp " + lib.release() + " cannot load " + gguf
                        + " (-Dbunshin.llama.log=info shows why)");
            }
            this.model = m;
            this.nEmbd = (int) lib.modelNEmbd.invokeExact(m);
            this.nLayer = (int) lib.modelNLayer.invokeExact(m);
            this.nVocab = (int) lib.vocabNTokens.invokeExact((MemorySegment) lib.modelGetVocab.invokeExact(m));
            this.id = NEXT_ID.getAndIncrement();
            MemorySegment cp = (MemorySegment) lib.contextDefaultParams.invokeExact((SegmentAllocator) arena);
            LlamaLayouts.CP_N_CTX.set(cp, 0L, s.nCtx());
            LlamaLayouts.CP_N_BATCH.set(cp, 0L, s.nBatch());
            LlamaLayouts.CP_N_UBATCH.set(cp, 0L, s.nBatch());
            LlamaLayouts.CP_N_SEQ_MAX.set(cp, 0L, s.nSeqMax());
            LlamaLayouts.CP_N_THREADS.set(cp, 0L, s.threads());
            LlamaLayouts.CP_N_THREADS_BATCH.set(cp, 0L, s.threads());
            LlamaLayouts.CP_KV_UNIFIED.set(cp, 0L, true); // one KV pool shared by all sequences, as a stage serves many jobs
            LlamaLayouts.CP_NO_PERF.set(cp, 0L, true);
            if (s.pooling() != NO_EMBEDDINGS) {
                LlamaLayouts.CP_EMBEDDINGS.set(cp, 0L, true);
                LlamaLayouts.CP_POOLING_TYPE.set(cp, 0L, s.pooling());
            }
            this.captureName = s.captureLayer() >= 0 ? "l_out-" + s.captureLayer()
                    : s.captureLayer() == OUTPUT_NORM ? "result_norm" : null;
            this.captureNameBytes = captureName == null ? null : arena.allocateFrom(captureName);
            this.everyRowCaptured = s.captureLayer() >= 0;
            if (captureName != null) {
                LlamaLayouts.CP_CB_EVAL.set(cp, 0L, evalStub());
                LlamaLayouts.CP_CB_EVAL_USER_DATA.set(cp, 0L, MemorySegment.ofAddress(id));
                CAPTURING.put(id, this);
            }
            MemorySegment c = (MemorySegment) lib.initFromModel.invokeExact(m, cp);
            if (c.equals(MemorySegment.NULL)) {
                CAPTURING.remove(id);
                lib.modelFree.invokeExact(m);
                arena.close();
                throw new IllegalArgumentException("llama.cpp cannot create a context for " + gguf + " (n_ctx " + s.nCtx()
                        + ", n_seq_max " + s.nSeqMax() + ", n_batch " + s.nBatch() + ")");
            }
            this.ctx = c;
            this.memory = (MemorySegment) lib.getMemory.invokeExact(c);
            this.nCtx = (int) lib.nCtx.invokeExact(c);
            this.nBatch = s.nBatch();
            this.captureBuf = captureName != null ? arena.allocate(JAVA_FLOAT, (long) nBatch * nEmbd) : null;
        } catch (Throwable t) {
            throw LlamaLibrary.rethrow(t);
        }
    }

    static NativeModel load(Path gguf, Settings settings) {
        return new NativeModel(LlamaLibrary.get(), gguf, settings);
    }

    int nEmbd() {
        return nEmbd;
    }

    int nLayer() {
        return nLayer;
    }

    int nVocab() {
        return nVocab;
    }

    /** KV cells of the context (llama_n_ctx): what was asked, possibly rounded up. */
    int nCtx() {
        return nCtx;
    }

    int nBatch() {
        return nBatch;
    }

    /** {@code llama_model_desc}: architecture, size, type. */
    String desc() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(256);
            int n = (int) lib.modelDesc.invokeExact(model, buf, 256L);
            return n < 0 ? "?" : buf.getString(0);
        } catch (Throwable t) {
            throw LlamaLibrary.rethrow(t);
        }
    }

    /**
     * One {@code llama_decode}. Token {@code i} is {@code tokens[i]} (or row {@code i} of {@code embd}, F32
     * {@code [n, nEmbd]}) at {@code pos[i]} of sequence {@code seq[i]}; {@code output[i]} asks for its logits.
     *
     * @throws IllegalStateException naming llama.cpp's status if the decode fails
     */
    void decode(int[] tokens, float[] embd, int[] pos, int[] seq, boolean[] output, int n) {
        if (n > nBatch) throw new IllegalArgumentException(n + " tokens in one decode; n_batch is " + nBatch);
        MemorySegment b = tokens != null ? tokenBatch() : embdBatch();
        LlamaLayouts.B_N_TOKENS.set(b, 0L, n);
        if (tokens != null) {
            MemorySegment.copy(tokens, 0, ptr(b, LlamaLayouts.B_TOKEN, 4L * nBatch), JAVA_INT, 0, n);
        } else {
            MemorySegment.copy(embd, 0, ptr(b, LlamaLayouts.B_EMBD, 4L * nBatch * nEmbd), JAVA_FLOAT, 0, n * nEmbd);
        }
        MemorySegment p = ptr(b, LlamaLayouts.B_POS, 4L * nBatch);
        MemorySegment nSeq = ptr(b, LlamaLayouts.B_N_SEQ_ID, 4L * nBatch);
        MemorySegment seqIds = ptr(b, LlamaLayouts.B_SEQ_ID, ADDRESS.byteSize() * nBatch);
        MemorySegment logits = ptr(b, LlamaLayouts.B_LOGITS, nBatch);
        MemorySegment.copy(pos, 0, p, JAVA_INT, 0, n);
        int outputs = 0;
        for (int i = 0; i < n; i++) {
            nSeq.setAtIndex(JAVA_INT, i, 1);
            seqIds.getAtIndex(ADDRESS, i).reinterpret(4).set(JAVA_INT, 0, seq[i]);
            logits.set(JAVA_BYTE, i, output[i] ? (byte) 1 : (byte) 0);
            if (output[i]) outputs++;
        }
        capturedRows = 0;
        int status;
        try {
            status = (int) lib.decode.invokeExact(ctx, b);
        } catch (Throwable t) {
            throw LlamaLibrary.rethrow(t);
        }
        if (status != 0) {
            throw new IllegalStateException("llama_decode returned " + status + switch (status) {
                case 1 -> " (no KV slot for the batch: the context of " + nCtx + " cells is full)";
                case 2 -> " (aborted)";
                case -1 -> " (invalid batch)";
                default -> " (error)";
            } + " for a batch of " + n + " tokens");
        }
        if (everyRowCaptured && capturedRows != n) {
            throw new IllegalStateException(captureName + " gave " + capturedRows + " rows for a batch of " + n
                    + " tokens (every token must be flagged for output)");
        }
        // result_norm is asked for embeddings only: rows that are not one per flagged token count as none (the
        // embedding jobs then fail, saying so) and never stop a decode whose logits are fine.
        if (!everyRowCaptured && capturedRows != outputs) capturedRows = 0;
    }

    /** Logits F32 [nVocab] of batch entry {@code i} of the last decode (one flagged for output). */
    float[] logits(int i) {
        try {
            MemorySegment l = (MemorySegment) lib.getLogitsIth.invokeExact(ctx, i);
            if (l.equals(MemorySegment.NULL)) throw new IllegalStateException("no logits for batch entry " + i);
            return l.reinterpret(4L * nVocab).toArray(JAVA_FLOAT);
        } catch (Throwable t) {
            throw LlamaLibrary.rethrow(t);
        }
    }

    /**
     * {@code llama_get_embeddings_seq}: the pooled embedding F32 [nEmbd] of a sequence after the last decode (a
     * context with {@link Settings#pooling} set; as llama.cpp pools it, not normalised).
     */
    float[] embeddingsSeq(int seq) {
        try {
            MemorySegment e = (MemorySegment) lib.getEmbeddingsSeq.invokeExact(ctx, seq);
            if (e.equals(MemorySegment.NULL)) throw new IllegalStateException("no pooled embedding for sequence " + seq);
            return e.reinterpret(4L * nEmbd).toArray(JAVA_FLOAT);
        } catch (Throwable t) {
            throw LlamaLibrary.rethrow(t);
        }
    }

    /**
     * Rows the last decode captured: with {@link #OUTPUT_NORM}, one per token flagged for output, or 0 if this
     * architecture's graph has no tensor of that name (or not one row per flagged token).
     */
    int capturedRows() {
        return capturedRows;
    }

    /**
     * The captured layer's output for the last decode, F32 [n, nEmbd], rows {@code [from, from + n)}: row {@code i}
     * is batch entry {@code i} for {@code l_out}, the {@code i}-th entry flagged for output for {@code result_norm}.
     */
    float[] captured(int from, int n) {
        if (from + n > capturedRows) {
            throw new IllegalStateException("rows [" + from + ", " + (from + n) + ") of " + captureName + " asked; the last "
                    + "decode captured " + capturedRows);
        }
        float[] out = new float[n * nEmbd];
        MemorySegment.copy(captureBuf, JAVA_FLOAT, 4L * from * nEmbd, out, 0, n * nEmbd);
        return out;
    }

    /** Drops positions {@code >= p0} of a sequence ({@code p0 = 0}: all of it). */
    void seqRm(int seq, int p0) {
        try {
            boolean ok = (boolean) lib.memorySeqRm.invokeExact(memory, seq, p0, -1);
            if (!ok) throw new IllegalStateException("llama_memory_seq_rm(" + seq + ", " + p0 + ", -1) failed");
        } catch (Throwable t) {
            throw LlamaLibrary.rethrow(t);
        }
    }

    /** The largest position a sequence holds, -1 if none. */
    int seqPosMax(int seq) {
        try {
            return (int) lib.memorySeqPosMax.invokeExact(memory, seq);
        } catch (Throwable t) {
            throw LlamaLibrary.rethrow(t);
        }
    }

    private MemorySegment tokenBatch() {
        if (tokenBatch == null) tokenBatch = batch(0);
        return tokenBatch;
    }

    private MemorySegment embdBatch() {
        if (embdBatch == null) embdBatch = batch(nEmbd);
        return embdBatch;
    }

    private MemorySegment batch(int embd) {
        try {
            return (MemorySegment) lib.batchInit.invokeExact((SegmentAllocator) arena, nBatch, embd, 1);
        } catch (Throwable t) {
            throw LlamaLibrary.rethrow(t);
        }
    }

    private static MemorySegment ptr(MemorySegment struct, java.lang.invoke.VarHandle field, long bytes) {
        return ((MemorySegment) field.get(struct, 0L)).reinterpret(bytes);
    }

    private static MemorySegment evalStub() {
        if (evalStub == null) {
            synchronized (NativeModel.class) {
                if (evalStub == null) {
                    evalStub = LlamaLibrary.upcall(NativeModel.class, "onEval", MethodType.methodType(boolean.class,
                            MemorySegment.class, boolean.class, MemorySegment.class), LlamaLibrary.EVAL_CALLBACK);
                }
            }
        }
        return evalStub;
    }

    /** ggml_backend_sched_eval_callback: asks for the captured tensor only, and copies it out when computed. */
    @SuppressWarnings("unused") // called from llama.cpp during llama_decode
    static boolean onEval(MemorySegment tensor, boolean ask, MemorySegment userData) {
        NativeModel m = CAPTURING.get(userData.address());
        if (m == null) return !ask;
        try {
            // Called for every node of the graph (hundreds a decode): compare the NUL-terminated name in place.
            MemorySegment name = (MemorySegment) m.lib.ggmlGetName.invokeExact(tensor);
            long len = m.captureNameBytes.byteSize(); // ggml's names are char[64]: reading this many bytes is in bounds
            if (MemorySegment.mismatch(name.reinterpret(len), 0, len, m.captureNameBytes, 0, len) != -1) return !ask;
            if (ask) return true;
            long rows = (long) m.lib.ggmlNrows.invokeExact(tensor);
            long nel = (long) m.lib.ggmlNelements.invokeExact(tensor);
            if (nel != rows * m.nEmbd || m.capturedRows + rows > m.nBatch) {
                throw new IllegalStateException(m.captureName + " has " + nel + " values in " + rows + " rows; nEmbd is " + m.nEmbd);
            }
            MemorySegment dst = m.captureBuf.asSlice(4L * m.capturedRows * m.nEmbd, 4L * nel);
            m.lib.ggmlBackendTensorGet.invokeExact(tensor, dst, 0L, 4L * nel);
            m.capturedRows += (int) rows;
            return true;
        } catch (Throwable t) {
            // An exception must not cross into C: log it, stop the graph (llama_decode then fails).
            System.getLogger("dev.bunshin.llama").log(System.Logger.Level.ERROR, "eval callback failed", t);
            return false;
        }
    }

    @Override
    public void close() {
        CAPTURING.remove(id);
        try {
            if (tokenBatch != null) lib.batchFree.invokeExact(tokenBatch);
            if (embdBatch != null) lib.batchFree.invokeExact(embdBatch);
            lib.free.invokeExact(ctx);
            lib.modelFree.invokeExact(model);
        } catch (Throwable t) {
            throw LlamaLibrary.rethrow(t);
        } finally {
            arena.close();
        }
    }
}
