package dev.bunshin.engine.tensor;

/**
 * The reference every fast kernel is tested against: decode a row with {@link WeightMatrix#dequantizeRow}, then a
 * plain scalar dot product (accumulated in double, so it is the "true" value the fast kernels approximate).
 */
public final class NaiveMatmul {
    private NaiveMatmul() {}

    /** Same contract as {@link WeightMatrix#matmul}: x F32 [n, cols], y F32 [n, rows]. */
    public static void matmul(WeightMatrix w, float[] x, float[] y, int n, int rowStart, int rowEnd) {
        int cols = w.cols();
        int rows = w.rows();
        float[] row = new float[cols];
        for (int r = rowStart; r < rowEnd; r++) {
            w.dequantizeRow(r, row, 0);
            for (int t = 0; t < n; t++) {
                double sum = 0;
                for (int c = 0; c < cols; c++) {
                    sum += (double) row[c] * x[t * cols + c];
                }
                y[t * rows + r] = (float) sum;
            }
        }
    }
}
