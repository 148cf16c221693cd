package dev.bunshin.engine.tensor;

import dev.bunshin.engine.gguf.GgmlType;
import dev.bunshin.engine.gguf.GgufException;
import dev.bunshin.engine.gguf.GgufTensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** Little-endian reads of ggml block fields from mapped tensor bytes, and shape checks shared by the block types. */
final class Blocks {
    private Blocks() {}

    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Unsigned byte. */
    static int u8(MemorySegment s, long off) {
        return Byte.toUnsignedInt(s.get(ValueLayout.JAVA_BYTE, off));
    }

    /** Signed byte. */
    static int i8(MemorySegment s, long off) {
        return s.get(ValueLayout.JAVA_BYTE, off);
    }

    /** A ggml_half (IEEE binary16) as float. */
    static float f16(MemorySegment s, long off) {
        return Float.float16ToFloat(s.get(LE_SHORT, off));
    }

    /** A little-endian uint32 (as its int bit pattern). */
    static int u32(MemorySegment s, long off) {
        return s.get(LE_INT, off);
    }

    /**
     * Checks that {@code t} is a 1- or 2-D tensor of {@code type} whose rows hold whole blocks (ggml's quantized
     * rows never share a block) and returns {rows, cols}.
     */
    static int[] shape(GgufTensor t, GgmlType type) throws GgufException {
        if (t.type() != type) {
            throw new GgufException("tensor " + t.name() + " has type " + t.type() + ", expected " + type);
        }
        if (t.dims().length > 2) {
            throw new GgufException("tensor " + t.name() + " has " + t.dims().length + " dimensions; a weight matrix has 1 or 2");
        }
        long cols = t.cols();
        long rows = t.rows();
        if (cols % type.blockSize != 0) {
            throw new GgufException("tensor " + t.name() + " (" + type + ") has rows of " + cols
                    + " values, not a multiple of the block size " + type.blockSize);
        }
        if (rows > Integer.MAX_VALUE || cols > Integer.MAX_VALUE || rows * cols > Integer.MAX_VALUE - 64) {
            throw new GgufException("tensor " + t.name() + " is too large for one weight matrix: " + rows + " x " + cols);
        }
        return new int[] {(int) rows, (int) cols};
    }

    /** Copies {@code len} bytes of the mapping into a heap array at {@code dstOff}. */
    static void copy(MemorySegment s, long off, byte[] dst, int dstOff, int len) {
        MemorySegment.copy(s, ValueLayout.JAVA_BYTE, off, dst, dstOff, len);
    }
}
