package dev.bunshin.engine;

/**
 * Hyperparameters read from the GGUF file (llama.cpp's hparams). Run choices live in {@link EngineOptions}.
 * Read one with {@code Architecture.readConfig(file)}: this record knows nothing of files or architectures.
 *
 * @param architecture  {@code general.architecture}, e.g. {@code llama}, {@code qwen2}, {@code qwen3}
 * @param nLayers       transformer blocks
 * @param nEmbd         embedding length
 * @param nHead         attention heads
 * @param nHeadKv       key/value heads (GQA)
 * @param headDim       dimension per head (of queries, keys and values)
 * @param nFf           feed-forward length
 * @param nVocab        vocabulary size (rows of {@code token_embd})
 * @param contextLength trained context length
 * @param rmsEps        epsilon of every RMS norm
 * @param ropeFreqBase  RoPE base frequency (theta)
 * @param ropeFreqScale RoPE position scale: 1 / linear scaling factor (1 without scaling)
 * @param ropeDim       leading dimensions of each head that RoPE rotates (the rest pass through)
 * @param ropeNeox      NeoX-style RoPE: rotates pairs (i, i + ropeDim/2) instead of adjacent pairs (2i, 2i+1)
 * @param qkNorm        RMS norm of each query and key head before RoPE ({@code attn_q_norm}, {@code attn_k_norm})
 */
public record ModelConfig(String architecture, int nLayers, int nEmbd, int nHead, int nHeadKv, int headDim,
                          int nFf, int nVocab, int contextLength,
                          float rmsEps, float ropeFreqBase, float ropeFreqScale, int ropeDim, boolean ropeNeox,
                          boolean qkNorm) {

    /** The original nine fields, with Llama defaults for the rest (eps 1e-5, theta 10000, normal RoPE). */
    public ModelConfig(String architecture, int nLayers, int nEmbd, int nHead, int nHeadKv, int headDim,
                       int nFf, int nVocab, int contextLength) {
        this(architecture, nLayers, nEmbd, nHead, nHeadKv, headDim, nFf, nVocab, contextLength,
                1e-5f, 10000f, 1f, headDim, false, false);
    }

    /** Width of all query heads together. */
    public int qDim() {
        return nHead * headDim;
    }

    /** Width of all key (or value) heads together. */
    public int kvDim() {
        return nHeadKv * headDim;
    }
}
