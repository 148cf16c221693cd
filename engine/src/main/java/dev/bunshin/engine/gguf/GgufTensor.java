package dev.bunshin.engine.gguf;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * One tensor of a GGUF file: its name, shape, type and the mapped bytes holding it.
 *
 * <p>{@code dims} is in ggml order: {@code dims[0]} is the fastest-varying (row length, ne0). A weight matrix
 * {@code W [rows, cols]} used as {@code y = W x} is stored with {@code dims = {cols, rows}}.
 *
 * @param name   tensor name, e.g. {@code blk.3.attn_q.weight}
 * @param dims   shape in ggml order (ne0 first)
 * @param type   element type
 * @param offset absolute byte offset of the tensor data in the file
 * @param data   the mapped bytes (no copy); valid while the {@link GgufFile} is open
 */
public record GgufTensor(String name, long[] dims, GgmlType type, long offset, MemorySegment data) {

    /** Total number of elements. */
    public long elementCount() {
        long n = 1;
        for (long d : dims) {
            n *= d;
        }
        return n;
    }

    /** Bytes of tensor data. */
    public long byteSize() {
        return type.byteSize(elementCount());
    }

    /** Number of rows, i.e. the product of all dims but the first. */
    public long rows() {
        return elementCount() / dims[0];
    }

    /** Row length (ne0). */
    public long cols() {
        return dims[0];
    }

    @Override
    public String toString() {
        return name + " " + type + " " + Arrays.toString(dims);
    }
}
