package dev.bunshin.engine.model;

import dev.bunshin.engine.ModelConfig;
import dev.bunshin.engine.gguf.GgufException;
import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.engine.tensor.WeightMatrix;

/**
 * One transformer block. Matrices stay in the mapping; norm vectors and biases (small) are copied to the heap.
 * Optional parts are null.
 */
record LayerWeights(
        int il,
        float[] attnNorm,  // [nEmbd]
        WeightMatrix wq,   // [qDim, nEmbd]
        WeightMatrix wk,   // [kvDim, nEmbd]
        WeightMatrix wv,   // [kvDim, nEmbd]
        WeightMatrix wo,   // [nEmbd, qDim]
        float[] bq,        // [qDim] or null
        float[] bk,        // [kvDim] or null
        float[] bv,        // [kvDim] or null
        float[] bo,        // [nEmbd] or null
        float[] qNorm,     // [headDim], with qkNorm
        float[] kNorm,     // [headDim], with qkNorm
        float[] ffnNorm,   // [nEmbd]
        WeightMatrix gate, // [nFf, nEmbd]
        WeightMatrix up,   // [nFf, nEmbd]
        WeightMatrix down  // [nEmbd, nFf]
) {
    static LayerWeights load(GgufFile f, ModelConfig c, int il) throws GgufException {
        Tensors t = new Tensors(f);
        int e = c.nEmbd(), q = c.qDim(), kv = c.kvDim(), ff = c.nFf();
        return new LayerWeights(il,
                t.vector(TensorNames.attnNorm(il), e),
                t.matrix(TensorNames.attnQ(il), q, e),
                t.matrix(TensorNames.attnK(il), kv, e),
                t.matrix(TensorNames.attnV(il), kv, e),
                t.matrix(TensorNames.attnOut(il), e, q),
                t.optionalVector(TensorNames.attnQBias(il), q),
                t.optionalVector(TensorNames.attnKBias(il), kv),
                t.optionalVector(TensorNames.attnVBias(il), kv),
                t.optionalVector(TensorNames.attnOutBias(il), e),
                c.qkNorm() ? t.vector(TensorNames.attnQNorm(il), c.headDim()) : null,
                c.qkNorm() ? t.vector(TensorNames.attnKNorm(il), c.headDim()) : null,
                t.vector(TensorNames.ffnNorm(il), e),
                t.matrix(TensorNames.ffnGate(il), ff, e),
                t.matrix(TensorNames.ffnUp(il), ff, e),
                t.matrix(TensorNames.ffnDown(il), e, ff));
    }
}
