package dev.bunshin.engine.tensor;

import dev.bunshin.engine.gguf.GgmlType;
import dev.bunshin.engine.gguf.GgufTensor;

import java.lang.foreign.MemorySegment;

/**
 * Base of the kernels that read a tensor straight from the mapped GGUF bytes.
 *
 * <p>Rows normally start on a block boundary ({@code cols % blockSize == 0}). Old GGUF v2 files also hold
 * tensors whose rows do not (e.g. {@code ffn_down} with 172 columns in Q8_0): the data is then one flat block
 * stream, element {@code e = r * cols + c} lives in block {@code e / blockSize}. Those go through the
 * {@link #decodedMatmul} path, which only needs {@link #dequantizeRow}.
 */
abstract class MappedMatrix implements WeightMatrix {
    final String name;
    final GgmlType type;
    final int rows;
    final int cols;
    final MemorySegment data; // the tensor's bytes, [rows * cols] elements of `type`
    /** Whether every row starts on a block boundary (the fast kernels need it). */
    final boolean rowAligned;
    /** Bytes per row when {@link #rowAligned}. */
    final long rowBytes;

    MappedMatrix(GgufTensor t) {
        this.name = t.name();
        this.type = t.type();
        this.rows = (int) t.rows();
        this.cols = (int) t.cols();
        this.data = t.data();
        this.rowAligned = cols % type.blockSize == 0;
        this.rowBytes = rowAligned ? (long) cols / type.blockSize * type.typeSize : -1;
    }

    @Override
    public GgmlType type() {
        return type;
    }

    @Override
    public int rows() {
        return rows;
    }

    @Override
    public int cols() {
        return cols;
    }

    /** Decodes each row once into a scratch buffer, then dots it with every activation row. */
    final void decodedMatmul(float[] x, float[] y, int n, int rowStart, int rowEnd) {
        float[] row = new float[cols];
        for (int r = rowStart; r < rowEnd; r++) {
            dequantizeRow(r, row, 0);
            for (int t = 0; t < n; t++) {
                y[t * rows + r] = VectorMath.dot(row, 0, x, t * cols, cols);
            }
        }
    }

    @Override
    public String toString() {
        return name + " " + type + " [" + rows + ", " + cols + "]";
    }
}
