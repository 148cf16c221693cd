package dev.bunshin.engine;

/**
 * Hyperparameters read from the GGUF file (llama.cpp's hparams). Run choices live in {@link EngineOptions}.
 * engine-core may add fields; keep these.
 *
 * @param architecture  {@code general.architecture}, e.g. {@code llama}, {@code qwen2}, {@code qwen3}
 * @param nLayers       transformer blocks
 * @param nEmbd         embedding length
 * @param nHead         attention heads
 * @param nHeadKv       key/value heads (GQA)
 * @param headDim       dimension per head
 * @param nFf           feed-forward length
 * @param nVocab        vocabulary size
 * @param contextLength trained context length
 */
public record ModelConfig(String architecture, int nLayers, int nEmbd, int nHead, int nHeadKv, int headDim,
                          int nFf, int nVocab, int contextLength) {
}
