package dev.bunshin.llama;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BOOLEAN;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The C structs of {@code include/llama.h} that cross the FFM boundary by value, field for field, as in llama.cpp
 * release <b>v0.5.0</b> (commit de3ff815, the release {@link LlamaRelease} pins). Field names are the header's.
 * Sizes and offsets were checked against gcc's {@code sizeof}/{@code offsetof} for that header (x86-64 and
 * aarch64 Linux: LP64): llama_model_params 80 bytes, llama_context_params 160, llama_batch 56; and at run time by
 * {@code LlamaLayoutsTest} (values written through these layouts read back through the library's getters).
 */
final class LlamaLayouts {
    private LlamaLayouts() {}

    private static MemoryLayout pad(long n) {
        return MemoryLayout.paddingLayout(n);
    }

    /** {@code struct llama_model_params}. */
    static final StructLayout MODEL_PARAMS = MemoryLayout.structLayout(
            ADDRESS.withName("devices"),
            ADDRESS.withName("tensor_buft_overrides"),
            JAVA_INT.withName("n_gpu_layers"),
            JAVA_INT.withName("split_mode"),
            JAVA_INT.withName("load_mode"),
            JAVA_INT.withName("lazy_mode"),
            JAVA_INT.withName("main_gpu"),
            pad(4),
            ADDRESS.withName("tensor_split"),
            ADDRESS.withName("progress_callback"),
            ADDRESS.withName("progress_callback_user_data"),
            ADDRESS.withName("kv_overrides"),
            JAVA_BOOLEAN.withName("vocab_only"),
            JAVA_BOOLEAN.withName("check_tensors"),
            JAVA_BOOLEAN.withName("use_extra_bufts"),
            JAVA_BOOLEAN.withName("no_host"),
            JAVA_BOOLEAN.withName("no_alloc"),
            JAVA_BOOLEAN.withName("load_mtp"),
            pad(2)).withName("llama_model_params");

    /** {@code struct llama_context_params}. */
    static final StructLayout CONTEXT_PARAMS = MemoryLayout.structLayout(
            JAVA_INT.withName("n_ctx"),
            JAVA_INT.withName("n_batch"),
            JAVA_INT.withName("n_ubatch"),
            JAVA_INT.withName("n_seq_max"),
            JAVA_INT.withName("n_rs_seq"),
            JAVA_INT.withName("n_outputs_max"),
            JAVA_INT.withName("n_outputs_max_per_seq"),
            JAVA_INT.withName("n_threads"),
            JAVA_INT.withName("n_threads_batch"),
            JAVA_INT.withName("ctx_type"),
            JAVA_INT.withName("rope_scaling_type"),
            JAVA_INT.withName("pooling_type"),
            JAVA_INT.withName("attention_type"),
            JAVA_INT.withName("flash_attn_type"),
            JAVA_FLOAT.withName("rope_freq_base"),
            JAVA_FLOAT.withName("rope_freq_scale"),
            JAVA_FLOAT.withName("yarn_ext_factor"),
            JAVA_FLOAT.withName("yarn_attn_factor"),
            JAVA_FLOAT.withName("yarn_beta_fast"),
            JAVA_FLOAT.withName("yarn_beta_slow"),
            JAVA_INT.withName("yarn_orig_ctx"),
            JAVA_FLOAT.withName("defrag_thold"),
            ADDRESS.withName("cb_eval"),
            ADDRESS.withName("cb_eval_user_data"),
            JAVA_INT.withName("type_k"),
            JAVA_INT.withName("type_v"),
            ADDRESS.withName("abort_callback"),
            ADDRESS.withName("abort_callback_data"),
            JAVA_BOOLEAN.withName("embeddings"),
            JAVA_BOOLEAN.withName("offload_kqv"),
            JAVA_BOOLEAN.withName("no_perf"),
            JAVA_BOOLEAN.withName("op_offload"),
            JAVA_BOOLEAN.withName("swa_full"),
            JAVA_BOOLEAN.withName("kv_unified"),
            pad(2),
            ADDRESS.withName("samplers"),
            JAVA_LONG.withName("n_samplers"),
            ADDRESS.withName("ctx_other")).withName("llama_context_params");

    /** {@code struct llama_batch}: arrays of {@code n_tokens} entries allocated by {@code llama_batch_init}. */
    static final StructLayout BATCH = MemoryLayout.structLayout(
            JAVA_INT.withName("n_tokens"),
            pad(4),
            ADDRESS.withName("token"),    // llama_token * [n_tokens], null when embd is set
            ADDRESS.withName("embd"),     // float * [n_tokens, n_embd], null when token is set
            ADDRESS.withName("pos"),      // llama_pos * [n_tokens]
            ADDRESS.withName("n_seq_id"), // int32_t * [n_tokens]
            ADDRESS.withName("seq_id"),   // llama_seq_id ** [n_tokens][n_seq_max]
            ADDRESS.withName("logits")    // int8_t * [n_tokens]: whether to output this token
    ).withName("llama_batch");

    static long offset(StructLayout s, String name) {
        return s.byteOffset(groupElement(name));
    }

    // model params
    static final VarHandle MP_N_GPU_LAYERS = MODEL_PARAMS.varHandle(groupElement("n_gpu_layers"));
    static final VarHandle MP_USE_EXTRA_BUFTS = MODEL_PARAMS.varHandle(groupElement("use_extra_bufts"));
    static final VarHandle MP_LOAD_MODE = MODEL_PARAMS.varHandle(groupElement("load_mode"));
    // context params
    static final VarHandle CP_N_CTX = CONTEXT_PARAMS.varHandle(groupElement("n_ctx"));
    static final VarHandle CP_N_BATCH = CONTEXT_PARAMS.varHandle(groupElement("n_batch"));
    static final VarHandle CP_N_UBATCH = CONTEXT_PARAMS.varHandle(groupElement("n_ubatch"));
    static final VarHandle CP_N_SEQ_MAX = CONTEXT_PARAMS.varHandle(groupElement("n_seq_max"));
    static final VarHandle CP_N_THREADS = CONTEXT_PARAMS.varHandle(groupElement("n_threads"));
    static final VarHandle CP_N_THREADS_BATCH = CONTEXT_PARAMS.varHandle(groupElement("n_threads_batch"));
    static final VarHandle CP_CB_EVAL = CONTEXT_PARAMS.varHandle(groupElement("cb_eval"));
    static final VarHandle CP_CB_EVAL_USER_DATA = CONTEXT_PARAMS.varHandle(groupElement("cb_eval_user_data"));
    static final VarHandle CP_EMBEDDINGS = CONTEXT_PARAMS.varHandle(groupElement("embeddings"));
    static final VarHandle CP_POOLING_TYPE = CONTEXT_PARAMS.varHandle(groupElement("pooling_type"));
    static final VarHandle CP_NO_PERF = CONTEXT_PARAMS.varHandle(groupElement("no_perf"));
    static final VarHandle CP_KV_UNIFIED = CONTEXT_PARAMS.varHandle(groupElement("kv_unified"));
    static final VarHandle CP_TYPE_K = CONTEXT_PARAMS.varHandle(groupElement("type_k"));
    static final VarHandle CP_TYPE_V = CONTEXT_PARAMS.varHandle(groupElement("type_v"));
    // batch
    static final VarHandle B_N_TOKENS = BATCH.varHandle(groupElement("n_tokens"));
    static final VarHandle B_TOKEN = BATCH.varHandle(groupElement("token"));
    static final VarHandle B_EMBD = BATCH.varHandle(groupElement("embd"));
    static final VarHandle B_POS = BATCH.varHandle(groupElement("pos"));
    static final VarHandle B_N_SEQ_ID = BATCH.varHandle(groupElement("n_seq_id"));
    static final VarHandle B_SEQ_ID = BATCH.varHandle(groupElement("seq_id"));
    static final VarHandle B_LOGITS = BATCH.varHandle(groupElement("logits"));
}
