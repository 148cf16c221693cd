package dev.bunshin.engine.tensor;

import dev.bunshin.engine.gguf.GgmlType;
import dev.bunshin.engine.gguf.GgufException;
import dev.bunshin.engine.gguf.GgufTensor;

import java.lang.foreign.MemorySegment;

/**
 * Base of the block-quantized matrices whose fast kernels run on a heap copy laid out at load time for vector
 * loads (decoded scales, quants in lane order). The mapped GGUF bytes stay the source of the naive
 * {@link #dequantizeRow}, which follows ggml's block layout literally and is what the fast kernels are tested against.
 *
 * <p>One activation row (decode) runs {@link #dot}, which decodes and multiplies in registers. Several rows
 * (prefill) decode each weight row once into floats with {@link #decodeRow} and reuse it for every activation row.
 */
abstract class RepackedMatrix implements WeightMatrix {

    final GgufTensor tensor;
    final GgmlType type;
    final int rows;
    final int cols;
    /** The mapped blocks: row r starts at {@code r * rowBytes}. */
    final MemorySegment data;
    final long rowBytes;

    RepackedMatrix(GgufTensor tensor, GgmlType type) throws GgufException {
        int[] shape = Blocks.shape(tensor, type);
        this.tensor = tensor;
        this.type = type;
        this.rows = shape[0];
        this.cols = shape[1];
        this.data = tensor.data();
        this.rowBytes = type.byteSize(cols);
    }

    @Override
    public final GgmlType type() {
        return type;
    }

    @Override
    public final int rows() {
        return rows;
    }

    @Override
    public final int cols() {
        return cols;
    }

    /** Size of the activation groups whose sums {@link #dot} needs (0: none). */
    abstract int sumGroup();

    /** Σ_c W[r,c]·x[xo+c]; {@code sums} are {@link Kernels#groupSums} of x at {@code so} (null if sumGroup is 0). */
    abstract float dot(int r, float[] x, int xo, float[] sums, int so);

    /** Row r as floats into {@code out[0 .. cols)}, vectorized (equal to {@link #dequantizeRow} up to rounding). */
    abstract void decodeRow(int r, float[] out);

    @Override
    public final void matmul(float[] x, float[] y, int n, int rowStart, int rowEnd) {
        if (rowStart < 0 || rowEnd > rows || rowStart > rowEnd) {
            throw new IndexOutOfBoundsException("rows [" + rowStart + ", " + rowEnd + ") of " + tensor.name() + " with " + rows + " rows");
        }
        if (n == 1) {
            int g = sumGroup();
            float[] sums = g == 0 ? null : Kernels.groupSums(x, 1, cols, g);
            for (int r = rowStart; r < rowEnd; r++) {
                y[r] = dot(r, x, 0, sums, 0);
            }
            return;
        }
        float[] w = new float[cols]; // F32 [cols]: one decoded weight row, shared by the n activation rows
        float[] out4 = new float[4];
        for (int r = rowStart; r < rowEnd; r++) {
            decodeRow(r, w);
            int t = 0;
            for (; t + 4 <= n; t += 4) { // four activation rows per pass over the decoded row
                Kernels.dot4(w, x, t * cols, cols, out4);
                for (int k = 0; k < 4; k++) {
                    y[(t + k) * rows + r] = out4[k];
                }
            }
            for (; t < n; t++) {
                y[t * rows + r] = Kernels.dot(w, 0, x, t * cols, cols);
            }
        }
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + tensor.name() + " " + rows + "x" + cols + "]";
    }
}
