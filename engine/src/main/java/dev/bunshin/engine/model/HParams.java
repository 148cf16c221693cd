package dev.bunshin.engine.model;

import dev.bunshin.engine.ModelConfig;
import dev.bunshin.engine.gguf.GgufException;
import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.engine.gguf.GgufKeys;
import dev.bunshin.engine.gguf.GgufTensor;

/** Reads the {@code <arch>.*} keys all supported architectures share (as llama.cpp's {@code llama_model::load_hparams}). */
final class HParams {
    private HParams() {}

    static ModelConfig read(GgufFile f, Architecture arch) throws GgufException {
        String a = arch.name();
        int nLayers = f.getInt(GgufKeys.arch(a, GgufKeys.BLOCK_COUNT));
        int nEmbd = f.getInt(GgufKeys.arch(a, GgufKeys.EMBEDDING_LENGTH));
        int nHead = scalarInt(f, GgufKeys.arch(a, GgufKeys.HEAD_COUNT), -1);
        int nHeadKv = scalarInt(f, GgufKeys.arch(a, GgufKeys.HEAD_COUNT_KV), nHead);
        int nFf = scalarInt(f, GgufKeys.arch(a, GgufKeys.FEED_FORWARD_LENGTH), -1);
        int headDim = f.getInt(GgufKeys.arch(a, GgufKeys.KEY_LENGTH), nHead > 0 ? nEmbd / nHead : -1);
        int valueDim = f.getInt(GgufKeys.arch(a, GgufKeys.VALUE_LENGTH), headDim);
        int ctx = f.getInt(GgufKeys.arch(a, GgufKeys.CONTEXT_LENGTH));
        float eps = f.getFloat(GgufKeys.arch(a, GgufKeys.RMS_EPS));
        float base = f.getFloat(GgufKeys.arch(a, GgufKeys.ROPE_FREQ_BASE), 10000f);
        int ropeDim = f.getInt(GgufKeys.arch(a, GgufKeys.ROPE_DIMENSION_COUNT), headDim);

        // Linear scaling: old files say rope.scale_linear, newer ones rope.scaling.factor (+ type).
        String scalingType = f.getString(GgufKeys.arch(a, GgufKeys.ROPE_SCALING_TYPE), "linear");
        float factor = f.getFloat(GgufKeys.arch(a, "rope.scale_linear"), 0f);
        if (factor == 0f) {
            factor = f.getFloat(GgufKeys.arch(a, GgufKeys.ROPE_SCALING_FACTOR), 0f);
        }
        if (scalingType.equals("none")) {
            factor = 0f;
        } else if (!scalingType.equals("linear") && factor != 0f && factor != 1f) {
            throw new GgufException(f.path() + ": " + GgufKeys.arch(a, GgufKeys.ROPE_SCALING_TYPE) + " = "
                    + scalingType + " is not supported (supported: none, linear)");
        }
        float freqScale = factor == 0f ? 1f : 1f / factor;

        GgufTensor embd = f.tensor(TensorNames.TOKEN_EMBD);
        int nVocab = (int) embd.rows();

        check(f, nHead > 0, GgufKeys.arch(a, GgufKeys.HEAD_COUNT), nHead);
        check(f, nHeadKv > 0 && nHead % nHeadKv == 0, GgufKeys.arch(a, GgufKeys.HEAD_COUNT_KV), nHeadKv);
        check(f, nFf > 0, GgufKeys.arch(a, GgufKeys.FEED_FORWARD_LENGTH), nFf);
        check(f, headDim > 0 && headDim % 2 == 0, GgufKeys.arch(a, GgufKeys.KEY_LENGTH), headDim);
        check(f, valueDim == headDim, GgufKeys.arch(a, GgufKeys.VALUE_LENGTH) + " (must equal key_length " + headDim + ")", valueDim);
        check(f, ropeDim > 0 && ropeDim <= headDim && ropeDim % 2 == 0, GgufKeys.arch(a, GgufKeys.ROPE_DIMENSION_COUNT), ropeDim);
        check(f, embd.cols() == nEmbd, TensorNames.TOKEN_EMBD + " row length (embedding_length " + nEmbd + ")", embd.cols());
        check(f, nLayers > 0 && ctx > 0, GgufKeys.arch(a, GgufKeys.BLOCK_COUNT) + "/" + GgufKeys.CONTEXT_LENGTH, nLayers + "/" + ctx);
        return new ModelConfig(a, nLayers, nEmbd, nHead, nHeadKv, headDim, nFf, nVocab, ctx,
                eps, base, freqScale, ropeDim, arch.ropeNeox(), arch.qkNorm());
    }

    /** An integer key that some models store per layer as an array; only one value for all layers is supported. */
    private static int scalarInt(GgufFile f, String key, int defaultValue) throws GgufException {
        Object v = f.get(key);
        if (v == null) {
            return defaultValue;
        }
        if (v instanceof Number n) {
            return n.intValue();
        }
        throw new GgufException(f.path() + ": metadata key " + key + " is per-layer (" + v.getClass().getSimpleName()
                + "); only one value for all layers is supported");
    }

    private static void check(GgufFile f, boolean ok, String what, Object value) throws GgufException {
        if (!ok) {
            throw new GgufException(f.path() + ": bad " + what + ": " + value);
        }
    }
}
