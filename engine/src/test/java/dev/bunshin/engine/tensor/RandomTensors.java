package dev.bunshin.engine.tensor;

import dev.bunshin.engine.gguf.GgmlType;
import dev.bunshin.engine.gguf.GgufTensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;

/** Random weight tensors in any block format, for kernel tests: random bytes with sane scales. */
final class RandomTensors {
    private RandomTensors() {}

    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    static GgufTensor of(GgmlType type, int rows, int cols, long seed) {
        Random rnd = new Random(seed);
        long bytes = type.byteSize((long) rows * cols);
        MemorySegment seg = Arena.ofAuto().allocate(bytes, 64);
        for (long i = 0; i < bytes; i++) {
            seg.set(ValueLayout.JAVA_BYTE, i, (byte) rnd.nextInt(256));
        }
        switch (type) {
            case F32 -> {
                for (long i = 0; i < (long) rows * cols; i++) seg.set(LE_FLOAT, 4 * i, (float) rnd.nextGaussian());
            }
            case F16 -> {
                for (long i = 0; i < (long) rows * cols; i++) {
                    seg.set(LE_SHORT, 2 * i, Float.floatToFloat16((float) rnd.nextGaussian()));
                }
            }
            case BF16 -> {
                for (long i = 0; i < (long) rows * cols; i++) {
                    seg.set(LE_SHORT, 2 * i, (short) (Float.floatToIntBits((float) rnd.nextGaussian()) >>> 16));
                }
            }
            default -> {
                // Block formats: the first two bytes of each block of the legacy types are the f16 scale d.
                if (type.blockSize == 32) {
                    for (long b = 0; b < bytes / type.typeSize; b++) {
                        float d = (float) (0.01 + rnd.nextDouble() * 0.05);
                        seg.set(LE_SHORT, b * type.typeSize, Float.floatToFloat16(d));
                    }
                }
            }
        }
        return new GgufTensor("test." + type + "." + rows + "x" + cols, new long[]{cols, rows}, type, 0, seg);
    }

    static float[] activations(int n, int cols, long seed) {
        Random rnd = new Random(seed);
        float[] x = new float[n * cols];
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
        return x;
    }
}
