package dev.bunshin.engine.tensor;

import dev.bunshin.engine.gguf.GgmlType;

/** A weight matrix W [rows, cols] (GGUF dims {cols, rows}); kernels are single-threaded over a row range, the caller parallelises. */
public interface WeightMatrix {
    GgmlType type();

    int rows();

    int cols();

    /** y[t*rows + r] = Σ_c W[r,c]·x[t*cols + c] for t in [0,n), r in [rowStart,rowEnd). x F32 [n, cols], y F32 [n, rows]. */
    void matmul(float[] x, float[] y, int n, int rowStart, int rowEnd);

    /** Naive reference: decodes row r into out[off .. off+cols) straight from the format. */
    void dequantizeRow(int r, float[] out, int off);
}
