package dev.bunshin.engine.model;

import dev.bunshin.engine.LayerRange;
import dev.bunshin.engine.ModelConfig;
import dev.bunshin.engine.gguf.GgufException;
import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.engine.tensor.WeightMatrix;

/**
 * The weights one stage needs: its layers, plus the token embedding if it is first and the output norm and head
 * if it is last. Nothing else of the file is looked at, so the pages of other stages' tensors are never touched.
 */
public final class StageWeights {
    final LayerRange range;
    final WeightMatrix tokenEmbd;  // [nVocab, nEmbd], first stage only
    final LayerWeights[] layers;   // [range.size()]
    final float[] outputNorm;      // [nEmbd], last stage only
    final WeightMatrix output;     // [nVocab, nEmbd], last stage only (token_embd when tied)
    final float[] ropeFreqs;       // [ropeDim / 2] or null

    private StageWeights(LayerRange range, WeightMatrix tokenEmbd, LayerWeights[] layers, float[] outputNorm,
                         WeightMatrix output, float[] ropeFreqs) {
        this.range = range;
        this.tokenEmbd = tokenEmbd;
        this.layers = layers;
        this.outputNorm = outputNorm;
        this.output = output;
        this.ropeFreqs = ropeFreqs;
    }

    public static StageWeights load(GgufFile f, ModelConfig c, LayerRange range) throws GgufException {
        if (range.end() > c.nLayers()) {
            throw new IllegalArgumentException("layer range " + range + " exceeds the " + c.nLayers()
                    + " layers of " + f.path());
        }
        Tensors t = new Tensors(f);
        WeightMatrix embd = range.isFirst() ? t.matrix(TensorNames.TOKEN_EMBD, c.nVocab(), c.nEmbd()) : null;
        LayerWeights[] layers = new LayerWeights[range.size()];
        for (int il = range.start(); il < range.end(); il++) {
            layers[il - range.start()] = LayerWeights.load(f, c, il);
        }
        float[] outNorm = null;
        WeightMatrix output = null;
        if (range.isLast(c.nLayers())) {
            outNorm = t.vector(TensorNames.OUTPUT_NORM, c.nEmbd());
            String head = f.tensorOrNull(TensorNames.OUTPUT) != null ? TensorNames.OUTPUT : TensorNames.TOKEN_EMBD;
            output = t.matrix(head, c.nVocab(), c.nEmbd());
        }
        float[] freqs = t.optionalVector(TensorNames.ROPE_FREQS, c.ropeDim() / 2);
        // Kernels that repack their weights do it on the first matmul; an empty one does it now, so the first
        // request does not pay for it. The embedding is left alone: it only ever decodes single rows.
        for (LayerWeights lw : layers) {
            for (WeightMatrix m : new WeightMatrix[]{lw.wq(), lw.wk(), lw.wv(), lw.wo(), lw.gate(), lw.up(), lw.down()}) {
                m.matmul(new float[0], new float[0], 0, 0, 0);
            }
        }
        if (output != null) output.matmul(new float[0], new float[0], 0, 0, 0);
        return new StageWeights(range, embd, layers, outNorm, output, freqs);
    }
}
