package dev.bunshin.engine.tensor;

import dev.bunshin.engine.gguf.GgmlType;
import dev.bunshin.engine.gguf.GgufException;
import dev.bunshin.engine.gguf.GgufTensor;

import java.lang.foreign.MemorySegment;

/**
 * Base of the block-quantized matrices whose fast kernels run on a heap copy laid out at load time for vector
 * loads (decoded scales, quants in lane order). The mapped GGUF bytes stay the source of the naive
 * {@link #dequantizeRow}, which follows ggml's block layout literally and is what the fast kernels are tested against.
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

    /** The fast kernel on rows [rowStart, rowEnd) (already checked), same contract as {@link #matmul}. */
    abstract void kernel(float[] x, float[] y, int n, int rowStart, int rowEnd);

    /** Row r as floats into {@code out[0 .. cols)}, vectorized (equal to {@link #dequantizeRow} up to rounding). */
    abstract void decodeRow(int r, float[] out);

    @Override
    public final void matmul(float[] x, float[] y, int n, int rowStart, int rowEnd) {
        if (rowStart < 0 || rowEnd > rows || rowStart > rowEnd) {
            throw new IndexOutOfBoundsException("rows [" + rowStart + ", " + rowEnd + ") of " + tensor.name() + " with " + rows + " rows");
        }
        kernel(x, y, n, rowStart, rowEnd);
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + tensor.name() + " " + rows + "x" + cols + "]";
    }
}
