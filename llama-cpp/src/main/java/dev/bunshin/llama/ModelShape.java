package dev.bunshin.llama;

import dev.bunshin.engine.gguf.GgufException;
import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.engine.gguf.GgufKeys;
import dev.bunshin.engine.model.TensorNames;

/**
 * The few hyperparameters a llama.cpp stage needs from a GGUF of any architecture libllama runs (the engine's
 * {@code ModelConfig} covers only the architectures our Java engine computes).
 *
 * @param kvDim widest key (= value) width of a layer, for sizing the KV cache
 */
record ModelShape(String architecture, int nLayers, int nEmbd, int nVocab, int contextLength, int kvDim) {

    static ModelShape of(GgufFile f) throws GgufException {
        String arch = f.getString(GgufKeys.GENERAL_ARCHITECTURE);
        int nLayers = f.getInt(GgufKeys.arch(arch, GgufKeys.BLOCK_COUNT));
        int nEmbd = f.getInt(GgufKeys.arch(arch, GgufKeys.EMBEDDING_LENGTH));
        int nHead = maxOf(f.get(GgufKeys.arch(arch, GgufKeys.HEAD_COUNT)), 1);
        int nHeadKv = maxOf(f.get(GgufKeys.arch(arch, GgufKeys.HEAD_COUNT_KV)), nHead);
        int keyLength = f.getInt(GgufKeys.arch(arch, GgufKeys.KEY_LENGTH), nEmbd / nHead);
        int nVocab = (int) f.tensor(TensorNames.TOKEN_EMBD).rows();
        int context = f.getInt(GgufKeys.arch(arch, GgufKeys.CONTEXT_LENGTH), 4096);
        return new ModelShape(arch, nLayers, nEmbd, nVocab, context, nHeadKv * keyLength);
    }

    /** A scalar, or the largest entry of a per-layer array. */
    private static int maxOf(Object v, int dflt) {
        return switch (v) {
            case null -> dflt;
            case Number n -> n.intValue();
            case int[] a -> java.util.Arrays.stream(a).max().orElse(dflt);
            case long[] a -> (int) java.util.Arrays.stream(a).max().orElse(dflt);
            default -> dflt;
        };
    }
}
