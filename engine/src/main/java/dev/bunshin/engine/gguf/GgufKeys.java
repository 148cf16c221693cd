package dev.bunshin.engine.gguf;

/**
 * The GGUF metadata keys the engine reads, in one place (llama.cpp's {@code llama-arch.cpp} LLM_KV names).
 * Architecture-scoped keys take the architecture name, e.g. {@code llama.block_count}.
 */
public final class GgufKeys {
    private GgufKeys() {}

    public static final String GENERAL_ARCHITECTURE = "general.architecture";
    public static final String GENERAL_NAME = "general.name";
    public static final String GENERAL_ALIGNMENT = "general.alignment";
    public static final String GENERAL_FILE_TYPE = "general.file_type";

    public static final String TOKENIZER_MODEL = "tokenizer.ggml.model";
    public static final String TOKENIZER_PRE = "tokenizer.ggml.pre";
    public static final String TOKENIZER_TOKENS = "tokenizer.ggml.tokens";
    public static final String TOKENIZER_SCORES = "tokenizer.ggml.scores";
    public static final String TOKENIZER_TOKEN_TYPE = "tokenizer.ggml.token_type";
    public static final String TOKENIZER_MERGES = "tokenizer.ggml.merges";
    public static final String TOKENIZER_BOS_ID = "tokenizer.ggml.bos_token_id";
    public static final String TOKENIZER_EOS_ID = "tokenizer.ggml.eos_token_id";
    public static final String TOKENIZER_EOT_ID = "tokenizer.ggml.eot_token_id";
    public static final String TOKENIZER_EOM_ID = "tokenizer.ggml.eom_token_id";
    public static final String TOKENIZER_UNK_ID = "tokenizer.ggml.unknown_token_id";
    public static final String TOKENIZER_PAD_ID = "tokenizer.ggml.padding_token_id";
    public static final String TOKENIZER_ADD_BOS = "tokenizer.ggml.add_bos_token";
    public static final String TOKENIZER_ADD_EOS = "tokenizer.ggml.add_eos_token";
    public static final String TOKENIZER_ADD_SPACE_PREFIX = "tokenizer.ggml.add_space_prefix";
    public static final String TOKENIZER_CHAT_TEMPLATE = "tokenizer.chat_template";
    /** (sic: llama.cpp's key is spelt "seperator") */
    public static final String TOKENIZER_SEP_ID = "tokenizer.ggml.seperator_token_id";
    public static final String TOKENIZER_MASK_ID = "tokenizer.ggml.mask_token_id";
    public static final String TOKENIZER_FIM_PRE_ID = "tokenizer.ggml.fim_pre_token_id";
    public static final String TOKENIZER_FIM_SUF_ID = "tokenizer.ggml.fim_suf_token_id";
    public static final String TOKENIZER_FIM_MID_ID = "tokenizer.ggml.fim_mid_token_id";
    public static final String TOKENIZER_FIM_PAD_ID = "tokenizer.ggml.fim_pad_token_id";
    public static final String TOKENIZER_FIM_REP_ID = "tokenizer.ggml.fim_rep_token_id";
    public static final String TOKENIZER_FIM_SEP_ID = "tokenizer.ggml.fim_sep_token_id";
    /** Deprecated names of the FIM prefix/suffix/middle ids, still read by llama.cpp. */
    public static final String TOKENIZER_PREFIX_ID = "tokenizer.ggml.prefix_token_id";
    public static final String TOKENIZER_SUFFIX_ID = "tokenizer.ggml.suffix_token_id";
    public static final String TOKENIZER_MIDDLE_ID = "tokenizer.ggml.middle_token_id";

    /** {@code <arch>.<suffix>}, e.g. {@code arch("llama", BLOCK_COUNT)}. */
    public static String arch(String arch, String suffix) {
        return arch + "." + suffix;
    }

    public static final String CONTEXT_LENGTH = "context_length";
    public static final String EMBEDDING_LENGTH = "embedding_length";
    public static final String BLOCK_COUNT = "block_count";
    public static final String FEED_FORWARD_LENGTH = "feed_forward_length";
    public static final String HEAD_COUNT = "attention.head_count";
    public static final String HEAD_COUNT_KV = "attention.head_count_kv";
    public static final String KEY_LENGTH = "attention.key_length";
    public static final String VALUE_LENGTH = "attention.value_length";
    public static final String RMS_EPS = "attention.layer_norm_rms_epsilon";
    public static final String ROPE_FREQ_BASE = "rope.freq_base";
    public static final String ROPE_DIMENSION_COUNT = "rope.dimension_count";
    public static final String ROPE_SCALING_TYPE = "rope.scaling.type";
    public static final String ROPE_SCALING_FACTOR = "rope.scaling.factor";
    public static final String ROPE_SCALING_ORIG_CTX = "rope.scaling.original_context_length";
    public static final String VOCAB_SIZE = "vocab_size";
    /** llama.cpp's {@code enum llama_pooling_type}: 0 none, 1 mean, 2 cls, 3 last, 4 rank. */
    public static final String POOLING_TYPE = "pooling_type";
}
