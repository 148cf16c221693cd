package dev.bunshin.engine.model;

import dev.bunshin.engine.ModelConfig;
import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.engine.tensor.WeightMatrices;
import dev.bunshin.engine.tensor.WeightMatrix;

/**
 * The reference forward pass: whole sequence from scratch, no cache, no batching, no threads, double precision,
 * every formula written out from the papers rather than from {@link Transformer}. Slow; for tests only.
 */
final class NaiveForward {
    private final GgufFile f;
    private final ModelConfig c;

    NaiveForward(GgufFile f) throws Exception {
        this.f = f;
        this.c = Architecture.readConfig(f);
    }

    /** Logits of the last token of {@code tokens}. */
    double[] logits(int[] tokens) throws Exception {
        int n = tokens.length, e = c.nEmbd(), hd = c.headDim();
        double[][] x = new double[n][];
        for (int t = 0; t < n; t++) x[t] = row(TensorNames.TOKEN_EMBD, tokens[t]);
        for (int il = 0; il < c.nLayers(); il++) {
            double[][] q = new double[n][], k = new double[n][], v = new double[n][];
            for (int t = 0; t < n; t++) {
                double[] h = rmsNorm(x[t], vec(TensorNames.attnNorm(il)));
                q[t] = add(mul(TensorNames.attnQ(il), h), vecOrNull(TensorNames.attnQBias(il)));
                k[t] = add(mul(TensorNames.attnK(il), h), vecOrNull(TensorNames.attnKBias(il)));
                v[t] = add(mul(TensorNames.attnV(il), h), vecOrNull(TensorNames.attnVBias(il)));
                if (c.qkNorm()) {
                    perHeadNorm(q[t], vec(TensorNames.attnQNorm(il)));
                    perHeadNorm(k[t], vec(TensorNames.attnKNorm(il)));
                }
                rope(q[t], t);
                rope(k[t], t);
            }
            int group = c.nHead() / c.nHeadKv();
            for (int t = 0; t < n; t++) {
                double[] att = new double[c.qDim()];
                for (int h = 0; h < c.nHead(); h++) {
                    int kh = h / group;
                    double[] s = new double[t + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j <= t; j++) {
                        double d = 0;
                        for (int i = 0; i < hd; i++) d += q[t][h * hd + i] * k[j][kh * hd + i];
                        s[j] = d / Math.sqrt(hd);
                        max = Math.max(max, s[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j <= t; j++) sum += s[j] = Math.exp(s[j] - max);
                    for (int j = 0; j <= t; j++)
                        for (int i = 0; i < hd; i++) att[h * hd + i] += s[j] / sum * v[j][kh * hd + i];
                }
                x[t] = add(x[t], mul(TensorNames.attnOut(il), att));
            }
            for (int t = 0; t < n; t++) {
                double[] h = rmsNorm(x[t], vec(TensorNames.ffnNorm(il)));
                double[] g = mul(TensorNames.ffnGate(il), h), u = mul(TensorNames.ffnUp(il), h);
                for (int i = 0; i < g.length; i++) g[i] = g[i] / (1 + Math.exp(-g[i])) * u[i];
                x[t] = add(x[t], mul(TensorNames.ffnDown(il), g));
            }
        }
        double[] last = rmsNorm(x[n - 1], vec(TensorNames.OUTPUT_NORM));
        String head = f.tensorOrNull(TensorNames.OUTPUT) != null ? TensorNames.OUTPUT : TensorNames.TOKEN_EMBD;
        return mul(head, last);
    }

    private void rope(double[] v, int pos) throws Exception {
        double[] ff = vecOrNull(TensorNames.ROPE_FREQS);
        int d = c.ropeDim(), hd = c.headDim();
        for (int h = 0; h < v.length / hd; h++) {
            for (int i = 0; i < d / 2; i++) {
                double theta = pos * c.ropeFreqScale() * Math.pow(c.ropeFreqBase(), -2.0 * i / d) / (ff == null ? 1 : ff[i]);
                // Llama rotates neighbours (2i, 2i+1); NeoX rotates the two halves (i, i + d/2).
                int a = h * hd + (c.ropeNeox() ? i : 2 * i);
                int b = c.ropeNeox() ? a + d / 2 : a + 1;
                double x0 = v[a], x1 = v[b];
                v[a] = x0 * Math.cos(theta) - x1 * Math.sin(theta);
                v[b] = x0 * Math.sin(theta) + x1 * Math.cos(theta);
            }
        }
    }

    private void perHeadNorm(double[] v, double[] w) {
        int hd = c.headDim();
        for (int h = 0; h < v.length / hd; h++) {
            double[] head = new double[hd];
            System.arraycopy(v, h * hd, head, 0, hd);
            System.arraycopy(rmsNorm(head, w), 0, v, h * hd, hd);
        }
    }

    private double[] rmsNorm(double[] x, double[] w) {
        double ss = 0;
        for (double d : x) ss += d * d;
        double scale = 1 / Math.sqrt(ss / x.length + c.rmsEps());
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) out[i] = x[i] * scale * w[i];
        return out;
    }

    private double[] mul(String name, double[] x) throws Exception {
        WeightMatrix m = WeightMatrices.of(f.tensor(name));
        double[] y = new double[m.rows()];
        float[] r = new float[m.cols()];
        for (int i = 0; i < m.rows(); i++) {
            m.dequantizeRow(i, r, 0);
            for (int j = 0; j < r.length; j++) y[i] += r[j] * x[j];
        }
        return y;
    }

    private double[] row(String name, int i) throws Exception {
        WeightMatrix m = WeightMatrices.of(f.tensor(name));
        float[] r = new float[m.cols()];
        m.dequantizeRow(i, r, 0);
        double[] d = new double[r.length];
        for (int j = 0; j < r.length; j++) d[j] = r[j];
        return d;
    }

    private double[] vec(String name) throws Exception {
        WeightMatrix m = WeightMatrices.of(f.tensor(name));
        float[] r = new float[(int) f.tensor(name).elementCount()];
        for (int i = 0; i < m.rows(); i++) m.dequantizeRow(i, r, i * m.cols());
        double[] d = new double[r.length];
        for (int j = 0; j < r.length; j++) d[j] = r[j];
        return d;
    }

    private double[] vecOrNull(String name) throws Exception {
        return f.tensorOrNull(name) == null ? null : vec(name);
    }

    private static double[] add(double[] a, double[] b) {
        if (b == null) return a;
        double[] out = new double[a.length];
        for (int i = 0; i < a.length; i++) out[i] = a[i] + b[i];
        return out;
    }
}
