package dev.bunshin.engine.model;

import dev.bunshin.engine.ModelConfig;
import dev.bunshin.engine.kv.KvCache;
import dev.bunshin.engine.tensor.Parallel;
import dev.bunshin.engine.tensor.VectorMath;
import dev.bunshin.engine.tensor.WeightMatrix;

import java.util.List;

/**
 * The forward pass of one stage over a stacked batch: all tokens of all sequences in the call are rows of one
 * activation matrix, so each weight matrix streams from memory once per call; attention then runs per sequence
 * against its own cache.
 *
 * <p>Per layer (llama.cpp's {@code build_llama} / {@code build_qwen2} / {@code build_qwen3}):
 * <pre>
 *   xb  = rmsnorm(x) * attn_norm                      // [nTok, nEmbd]
 *   q,k,v = Wq xb (+bq), Wk xb (+bk), Wv xb (+bv)     // [nTok, qDim], [nTok, kvDim] x2
 *   q,k = rmsnorm per head * q_norm/k_norm (qwen3), then RoPE at each token's position
 *   cache[pos] = k, v; att = softmax(q k^T / sqrt(headDim)) v, causal   // [nTok, qDim]
 *   x  += Wo att (+bo)
 *   xb  = rmsnorm(x) * ffn_norm
 *   x  += Wdown (silu(Wgate xb) * Wup xb)             // hidden [nTok, nFf]
 * </pre>
 * Every value a token gets depends only on that token's inputs and its sequence's cache (never on the other rows
 * of the batch or on the thread count), so splitting the layers over stages, batching, or changing threads gives
 * bit-identical results.
 */
public final class Transformer {
    private final ModelConfig c;
    private final StageWeights w;
    private final Parallel pool;
    private final Rope rope;

    public Transformer(ModelConfig c, StageWeights w, Parallel pool) {
        this.c = c;
        this.w = w;
        this.pool = pool;
        this.rope = new Rope(c, w.ropeFreqs);
    }

    /** Writes the embedding of each token into rows {@code [row, row + tokens.length)} of x F32 [*, nEmbd]. */
    public void embed(int[] tokens, float[] x, int row) {
        for (int i = 0; i < tokens.length; i++) {
            w.tokenEmbd.dequantizeRow(tokens[i], x, (row + i) * c.nEmbd());
        }
    }

    /** Runs the stage's layers in place over x F32 [nTok, nEmbd]; the slices cover all nTok rows. */
    public void layers(float[] x, int nTok, List<SequenceSlice> slices) {
        int e = c.nEmbd(), qDim = c.qDim(), kvDim = c.kvDim(), nFf = c.nFf();
        int[] tokPos = new int[nTok];
        SequenceSlice[] tokSlice = new SequenceSlice[nTok];
        for (SequenceSlice s : slices) {
            for (int i = 0; i < s.n(); i++) {
                tokPos[s.row() + i] = s.pos() + i;
                tokSlice[s.row() + i] = s;
            }
        }
        float[][] ropeTables = new float[nTok][];
        for (int t = 0; t < nTok; t++) ropeTables[t] = rope.table(tokPos[t]);

        float[] xb = new float[nTok * e];       // F32 [nTok, nEmbd]
        float[] q = new float[nTok * qDim];     // F32 [nTok, qDim]
        float[] k = new float[nTok * kvDim];    // F32 [nTok, kvDim]
        float[] v = new float[nTok * kvDim];    // F32 [nTok, kvDim]
        float[] att = new float[nTok * qDim];   // F32 [nTok, qDim]
        float[] o = new float[nTok * e];        // F32 [nTok, nEmbd]
        float[] gate = new float[nTok * nFf];   // F32 [nTok, nFf]
        float[] up = new float[nTok * nFf];     // F32 [nTok, nFf]

        for (int li = 0; li < w.layers.length; li++) {
            LayerWeights lw = w.layers[li];
            rmsNorm(x, xb, nTok, e, lw.attnNorm());
            pool.matmul(new WeightMatrix[]{lw.wq(), lw.wk(), lw.wv()}, xb, new float[][]{q, k, v}, nTok);
            addBias(q, lw.bq(), nTok);
            addBias(k, lw.bk(), nTok);
            addBias(v, lw.bv(), nTok);
            for (int t = 0; t < nTok; t++) {
                if (lw.qNorm() != null) {
                    headNorm(q, t * qDim, c.nHead(), lw.qNorm());
                    headNorm(k, t * kvDim, c.nHeadKv(), lw.kNorm());
                }
                rope.apply(q, t * qDim, c.nHead(), c.headDim(), ropeTables[t]);
                rope.apply(k, t * kvDim, c.nHeadKv(), c.headDim(), ropeTables[t]);
                KvCache cache = tokSlice[t].cache();
                System.arraycopy(k, t * kvDim, cache.keys(li), tokPos[t] * kvDim, kvDim);
                System.arraycopy(v, t * kvDim, cache.values(li), tokPos[t] * kvDim, kvDim);
            }
            final int layer = li;
            long attnWork = 0;
            for (int t = 0; t < nTok; t++) attnWork += 2L * (tokPos[t] + 1) * qDim;
            pool.forEach(nTok * c.nHead(), attnWork, task -> attention(layer, task / c.nHead(), task % c.nHead(),
                    tokPos, tokSlice, q, att));
            pool.matmul(lw.wo(), att, o, nTok);
            addBias(o, lw.bo(), nTok);
            add(x, o);

            rmsNorm(x, xb, nTok, e, lw.ffnNorm());
            pool.matmul(new WeightMatrix[]{lw.gate(), lw.up()}, xb, new float[][]{gate, up}, nTok);
            swiglu(gate, up);
            pool.matmul(lw.down(), gate, o, nTok);
            add(x, o);
        }
    }

    /** gate = silu(gate) * up, element-wise; exp is costly enough in a long prefill to share out. */
    private void swiglu(float[] gate, float[] up) {
        int chunk = 4096;
        int n = (gate.length + chunk - 1) / chunk;
        pool.forEach(n, gate.length, ci -> { // a decode step's few thousand stay on the caller
            for (int i = ci * chunk, end = Math.min(gate.length, i + chunk); i < end; i++) {
                float g = gate[i];
                gate[i] = g / (1.0f + (float) Math.exp(-g)) * up[i];
            }
        });
    }

    /** Output norm and head for the given rows of x F32 [*, nEmbd]: logits F32 [rows.length, nVocab]. */
    public float[] head(float[] x, int[] rows) {
        int e = c.nEmbd();
        float[] picked = new float[rows.length * e];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(x, rows[i] * e, picked, i * e, e);
        }
        float[] normed = new float[picked.length];
        rmsNorm(picked, normed, rows.length, e, w.outputNorm);
        float[] logits = new float[rows.length * c.nVocab()];
        pool.matmul(w.output, normed, logits, rows.length);
        return logits;
    }

    /**
     * The output norm of {@code n} consecutive rows of x F32 [*, nEmbd] from {@code row}: the final hidden states
     * F32 [n, nEmbd] that the head turns into logits (llama.cpp's {@code result_norm}), what embeddings pool.
     */
    public float[] outputNorm(float[] x, int row, int n) {
        int e = c.nEmbd();
        float[] picked = new float[n * e];
        System.arraycopy(x, row * e, picked, 0, n * e);
        float[] normed = new float[n * e];
        rmsNorm(picked, normed, n, e, w.outputNorm);
        return normed;
    }

    /** One query head of one token against its sequence's cached positions [0, pos]. */
    private void attention(int li, int t, int h, int[] tokPos, SequenceSlice[] tokSlice, float[] q, float[] att) {
        int hd = c.headDim(), kvDim = c.kvDim();
        int kvh = h / (c.nHead() / c.nHeadKv());
        int pos = tokPos[t];
        KvCache cache = tokSlice[t].cache();
        float[] keys = cache.keys(li), values = cache.values(li);
        int qOff = t * c.qDim() + h * hd;
        float scale = (float) (1.0 / Math.sqrt(hd));
        float[] scores = new float[pos + 1];
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j <= pos; j++) {
            float s = VectorMath.dot(q, qOff, keys, j * kvDim + kvh * hd, hd) * scale;
            scores[j] = s;
            max = Math.max(max, s);
        }
        double sum = 0;
        for (int j = 0; j <= pos; j++) {
            float p = (float) Math.exp(scores[j] - max);
            scores[j] = p;
            sum += p;
        }
        float inv = (float) (1.0 / sum);
        int outOff = t * c.qDim() + h * hd;
        java.util.Arrays.fill(att, outOff, outOff + hd, 0f);
        for (int j = 0; j <= pos; j++) {
            VectorMath.axpy(scores[j] * inv, values, j * kvDim + kvh * hd, att, outOff, hd);
        }
    }

    /** out = x / sqrt(mean(x²) + eps) * weight, per row of n values (ggml sums the squares in double). */
    private void rmsNorm(float[] x, float[] out, int rows, int n, float[] weight) {
        for (int r = 0; r < rows; r++) {
            int off = r * n;
            double sum = 0;
            for (int i = 0; i < n; i++) {
                float xi = x[off + i];
                sum += xi * xi;
            }
            float mean = (float) (sum / n);
            float scale = 1.0f / (float) Math.sqrt(mean + c.rmsEps());
            for (int i = 0; i < n; i++) {
                out[off + i] = (x[off + i] * scale) * weight[i];
            }
        }
    }

    /** RMS norm of each head in place (Qwen3's q_norm / k_norm). */
    private void headNorm(float[] x, int off, int nHeads, float[] weight) {
        int hd = c.headDim();
        for (int h = 0; h < nHeads; h++) {
            rmsNorm1(x, off + h * hd, hd, weight);
        }
    }

    private void rmsNorm1(float[] x, int off, int n, float[] weight) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            float xi = x[off + i];
            sum += xi * xi;
        }
        float scale = 1.0f / (float) Math.sqrt((float) (sum / n) + c.rmsEps());
        for (int i = 0; i < n; i++) {
            x[off + i] = (x[off + i] * scale) * weight[i];
        }
    }

    private static void addBias(float[] y, float[] bias, int rows) {
        if (bias == null) return;
        int n = bias.length;
        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < n; i++) y[r * n + i] += bias[i];
        }
    }

    private static void add(float[] x, float[] d) {
        for (int i = 0; i < x.length; i++) x[i] += d[i];
    }
}
