package dev.bunshin.llama;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

import static dev.bunshin.llama.LlamaLayouts.BATCH;
import static dev.bunshin.llama.LlamaLayouts.CONTEXT_PARAMS;
import static dev.bunshin.llama.LlamaLayouts.MODEL_PARAMS;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BOOLEAN;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * libllama through Java's FFM API: the one class that owns the {@link SymbolLookup} and the {@link MethodHandle}s,
 * for the few functions of {@code include/llama.h} (and {@code ggml.h}, {@code ggml-backend.h}) that Bunshin calls.
 * The struct layouts are in {@link LlamaLayouts}. Everything above this class speaks Java types.
 *
 * <p>Loaded once per JVM ({@link #get}): the library found by {@link LlamaRelease#locate}, the CPU-variant backends
 * of its directory ({@code ggml_backend_load_all_from_path}), llama.cpp's log routed to {@link System.Logger}
 * (warnings and errors only unless {@code -Dbunshin.llama.log=info|debug}).
 */
public final class LlamaLibrary {

    private static volatile LlamaLibrary instance;

    private final Path path;
    private final String release;

    // ggml-backend.h / ggml.h
    final MethodHandle ggmlBackendLoadAllFromPath; // void (const char * dir_path)
    final MethodHandle ggmlGetName;                // const char * (const struct ggml_tensor *)
    final MethodHandle ggmlNelements;              // int64_t (const struct ggml_tensor *)
    final MethodHandle ggmlNrows;                  // int64_t (const struct ggml_tensor *)
    final MethodHandle ggmlBackendTensorGet;       // void (const struct ggml_tensor *, void * data, size_t offset, size_t size)
    // llama.h
    final MethodHandle backendInit;                // void (void)
    final MethodHandle printSystemInfo;            // const char * (void)
    final MethodHandle logSet;                     // void (ggml_log_callback, void * user_data)
    final MethodHandle modelDefaultParams;         // struct llama_model_params (void)
    final MethodHandle contextDefaultParams;       // struct llama_context_params (void)
    final MethodHandle modelLoadFromFile;          // struct llama_model * (const char * path, struct llama_model_params)
    final MethodHandle modelFree;                  // void (struct llama_model *)
    final MethodHandle initFromModel;              // struct llama_context * (struct llama_model *, struct llama_context_params)
    final MethodHandle free;                       // void (struct llama_context *)
    final MethodHandle nCtx;                       // uint32_t (const struct llama_context *)
    final MethodHandle nCtxSeq;                    // uint32_t (const struct llama_context *)
    final MethodHandle modelNEmbd;                 // int32_t (const struct llama_model *)
    final MethodHandle modelNLayer;                // int32_t (const struct llama_model *)
    final MethodHandle modelGetVocab;              // const struct llama_vocab * (const struct llama_model *)
    final MethodHandle vocabNTokens;               // int32_t (const struct llama_vocab *)
    final MethodHandle modelDesc;                  // int32_t (const struct llama_model *, char * buf, size_t buf_size)
    final MethodHandle getMemory;                  // llama_memory_t (const struct llama_context *)
    final MethodHandle memorySeqRm;                // bool (llama_memory_t, llama_seq_id, llama_pos p0, llama_pos p1)
    final MethodHandle memorySeqPosMax;            // llama_pos (llama_memory_t, llama_seq_id)
    final MethodHandle memoryClear;                // void (llama_memory_t, bool data)
    final MethodHandle batchInit;                  // struct llama_batch (int32_t n_tokens, int32_t embd, int32_t n_seq_max)
    final MethodHandle batchFree;                  // void (struct llama_batch)
    final MethodHandle decode;                     // int32_t (struct llama_context *, struct llama_batch)
    final MethodHandle getLogitsIth;               // float * (struct llama_context *, int32_t i)
    final MethodHandle getEmbeddingsSeq;           // float * (struct llama_context *, llama_seq_id): pooled, or NULL

    /** {@code bool (*ggml_backend_sched_eval_callback)(struct ggml_tensor * t, bool ask, void * user_data)}. */
    static final FunctionDescriptor EVAL_CALLBACK = FunctionDescriptor.of(JAVA_BOOLEAN, ADDRESS, JAVA_BOOLEAN, ADDRESS);

    private LlamaLibrary(Path path, String release) {
        this.path = path;
        this.release = release;
        Arena global = Arena.global();
        Path dir = path.getParent();
        // libllama finds libggml* through its RUNPATH ($ORIGIN); loading it is enough.
        SymbolLookup lookup = SymbolLookup.libraryLookup(path, global);
        SymbolLookup ggml = lookupOf(dir, global, "libggml-base.so", lookup);
        // libggml as node-llama-cpp names it: libggml.v0.5.0.so, or libggml.vulkan.v0.5.0.so beside a GPU build's libllama.
        String ggmlName = path.getFileName().toString().replaceFirst("^libllama\\.", "libggml.");
        SymbolLookup ggmlMain = lookupOf(dir, global, ggmlName,
                lookupOf(dir, global, "libggml." + release + ".so", lookupOf(dir, global, "libggml.so", lookup)));
        Linker linker = Linker.nativeLinker();
        ggmlBackendLoadAllFromPath = handle(linker, ggmlMain, "ggml_backend_load_all_from_path", FunctionDescriptor.ofVoid(ADDRESS));
        ggmlGetName = handle(linker, ggml, "ggml_get_name", FunctionDescriptor.of(ADDRESS, ADDRESS));
        ggmlNelements = handle(linker, ggml, "ggml_nelements", FunctionDescriptor.of(JAVA_LONG, ADDRESS));
        ggmlNrows = handle(linker, ggml, "ggml_nrows", FunctionDescriptor.of(JAVA_LONG, ADDRESS));
        ggmlBackendTensorGet = handle(linker, ggml, "ggml_backend_tensor_get",
                FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG));
        backendInit = handle(linker, lookup, "llama_backend_init", FunctionDescriptor.ofVoid());
        printSystemInfo = handle(linker, lookup, "llama_print_system_info", FunctionDescriptor.of(ADDRESS));
        logSet = handle(linker, lookup, "llama_log_set", FunctionDescriptor.ofVoid(ADDRESS, ADDRESS));
        modelDefaultParams = handle(linker, lookup, "llama_model_default_params", FunctionDescriptor.of(MODEL_PARAMS));
        contextDefaultParams = handle(linker, lookup, "llama_context_default_params", FunctionDescriptor.of(CONTEXT_PARAMS));
        modelLoadFromFile = handle(linker, lookup, "llama_model_load_from_file", FunctionDescriptor.of(ADDRESS, ADDRESS, MODEL_PARAMS));
        modelFree = handle(linker, lookup, "llama_model_free", FunctionDescriptor.ofVoid(ADDRESS));
        initFromModel = handle(linker, lookup, "llama_init_from_model", FunctionDescriptor.of(ADDRESS, ADDRESS, CONTEXT_PARAMS));
        free = handle(linker, lookup, "llama_free", FunctionDescriptor.ofVoid(ADDRESS));
        nCtx = handle(linker, lookup, "llama_n_ctx", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        nCtxSeq = handle(linker, lookup, "llama_n_ctx_seq", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        modelNEmbd = handle(linker, lookup, "llama_model_n_embd", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        modelNLayer = handle(linker, lookup, "llama_model_n_layer", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        modelGetVocab = handle(linker, lookup, "llama_model_get_vocab", FunctionDescriptor.of(ADDRESS, ADDRESS));
        vocabNTokens = handle(linker, lookup, "llama_vocab_n_tokens", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        modelDesc = handle(linker, lookup, "llama_model_desc", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG));
        getMemory = handle(linker, lookup, "llama_get_memory", FunctionDescriptor.of(ADDRESS, ADDRESS));
        memorySeqRm = handle(linker, lookup, "llama_memory_seq_rm",
                FunctionDescriptor.of(JAVA_BOOLEAN, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT));
        memorySeqPosMax = handle(linker, lookup, "llama_memory_seq_pos_max", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        memoryClear = handle(linker, lookup, "llama_memory_clear", FunctionDescriptor.ofVoid(ADDRESS, JAVA_BOOLEAN));
        batchInit = handle(linker, lookup, "llama_batch_init", FunctionDescriptor.of(BATCH, JAVA_INT, JAVA_INT, JAVA_INT));
        batchFree = handle(linker, lookup, "llama_batch_free", FunctionDescriptor.ofVoid(BATCH));
        decode = handle(linker, lookup, "llama_decode", FunctionDescriptor.of(JAVA_INT, ADDRESS, BATCH));
        getLogitsIth = handle(linker, lookup, "llama_get_logits_ith", FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT));
        getEmbeddingsSeq = handle(linker, lookup, "llama_get_embeddings_seq", FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT));
    }

    /**
     * The library, loaded on first use: {@code -Dbunshin.llama.lib} / {@code BUNSHIN_LLAMA_LIB}, else the one the
     * build obtained.
     *
     * @throws LlamaUnavailableException naming the path and the expected release if there is none or it is another
     *                                   release
     */
    public static LlamaLibrary get() {
        LlamaLibrary l = instance;
        if (l != null) return l;
        synchronized (LlamaLibrary.class) {
            if (instance == null) {
                Path p = LlamaRelease.locate();
                LlamaLibrary lib;
                try {
                    lib = new LlamaLibrary(p, LlamaRelease.RELEASE);
                } catch (IllegalArgumentException | UnsatisfiedLinkError e) {
                    throw new LlamaUnavailableException("cannot load " + p + " (llama.cpp " + LlamaRelease.RELEASE + "): "
                            + e.getMessage(), e);
                }
                lib.start();
                instance = lib;
            }
            return instance;
        }
    }

    private void start() {
        try {
            logSet.invokeExact(LlamaLog.upcall(), MemorySegment.NULL);
            try (Arena a = Arena.ofConfined()) {
                ggmlBackendLoadAllFromPath.invokeExact(a.allocateFrom(path.getParent().toString()));
            }
            backendInit.invokeExact();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** The libllama file in use. */
    public Path path() {
        return path;
    }

    /** Its llama.cpp release, e.g. {@code v0.5.0}. */
    public String release() {
        return release;
    }

    /** {@code llama_print_system_info()}: the CPU features and backends the library runs with. */
    public String systemInfo() {
        try {
            MemorySegment s = (MemorySegment) printSystemInfo.invokeExact();
            return s.reinterpret(Long.MAX_VALUE).getString(0).trim();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** One line for logs and the workers row: release, path, CPU features. */
    public String describe() {
        return "llama.cpp " + release + " (" + path + "; " + systemInfo() + ")";
    }

    private static SymbolLookup lookupOf(Path dir, Arena arena, String name, SymbolLookup fallback) {
        Path p = dir.resolve(name);
        return Files.isRegularFile(p) ? SymbolLookup.libraryLookup(p, arena).or(fallback) : fallback;
    }

    private static MethodHandle handle(Linker linker, SymbolLookup lookup, String name, FunctionDescriptor fd) {
        MemorySegment symbol = lookup.find(name).orElseThrow(() ->
                new IllegalArgumentException("symbol " + name + " not found"));
        return linker.downcallHandle(symbol, fd);
    }

    /** An upcall stub for {@code fn} (a static method of {@code owner}) with the given C signature, for the JVM's life. */
    static MemorySegment upcall(Class<?> owner, String fn, MethodType type, FunctionDescriptor fd) {
        try {
            MethodHandle target = MethodHandles.lookup().findStatic(owner, fn, type);
            return Linker.nativeLinker().upcallStub(target, fd, Arena.global());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("no upcall target " + owner.getSimpleName() + "." + fn, e);
        }
    }

    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new IllegalStateException(t.toString().toLowerCase(Locale.ROOT), t);
    }
}
