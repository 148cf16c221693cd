package dev.bunshin.engine.tensor;

import dev.bunshin.engine.gguf.GgmlType;
import dev.bunshin.engine.gguf.GgufTensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The fast (repacked, vectorized) kernels of the block types against {@link NaiveMatmul} over the literal
 * {@code dequantizeRow}, on blocks of random bytes (with sane f16 scales) in several shapes.
 *
 * <p>Tolerance: both sides compute the same products; they differ only in summation order and FMA rounding
 * (the naive side sums in double). So |fast - naive| ≤ 1e-5 · Σ_c |W[r,c]·x[c]| + 1e-6.
 */
class BlockMatrixKernelTest {

    static final List<GgmlType> TYPES = List.of(GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1,
            GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K);

    /** Byte offsets of the ggml_half fields of each block type: random bytes there could be Inf or NaN. */
    static int[] halfFields(GgmlType type) {
        return switch (type) {
            case Q4_1, Q5_1, Q4_K, Q5_K -> new int[] {0, 2};
            case Q5_0 -> new int[] {0};
            case Q2_K -> new int[] {80, 82};
            case Q3_K -> new int[] {108};
            case Q6_K -> new int[] {208};
            default -> throw new IllegalArgumentException(type.toString());
        };
    }

    /** A tensor of random blocks: random quants and packed scales, f16 fields drawn from ±[0.001, 0.1). */
    static GgufTensor randomTensor(GgmlType type, int rows, int cols, long seed) {
        Random rnd = new Random(seed);
        int blocks = rows * cols / type.blockSize;
        byte[] bytes = new byte[blocks * type.typeSize];
        rnd.nextBytes(bytes);
        ByteBuffer bb = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        for (int b = 0; b < blocks; b++) {
            for (int f : halfFields(type)) {
                float v = (0.001f + rnd.nextFloat() * 0.099f) * (rnd.nextBoolean() ? 1 : -1);
                bb.putShort(b * type.typeSize + f, Float.floatToFloat16(v));
            }
        }
        return new GgufTensor("random." + type, new long[] {cols, rows}, type, 0, MemorySegment.ofArray(bytes));
    }

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        int[][] shapes = {{1, 256}, {7, 512}, {13, 768}, {5, 1024}};
        for (GgmlType type : TYPES) {
            for (int[] s : shapes) {
                for (int n : new int[] {1, 3, 16}) {
                    out.add(Arguments.of(type, s[0], s[1], n));
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1}x{2} n={3}")
    @MethodSource("cases")
    void fastMatmulMatchesNaive(GgmlType type, int rows, int cols, int n) throws Exception {
        GgufTensor t = randomTensor(type, rows, cols, 31L * rows + cols + type.id);
        WeightMatrix w = WeightMatrices.of(t);
        assertEquals(type, w.type());
        assertEquals(rows, w.rows());
        assertEquals(cols, w.cols());
        Random rnd = new Random(n * 1000L + rows);
        float[] x = new float[n * cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        float[] expected = new float[n * rows];
        NaiveMatmul.matmul(w, x, expected, n, 0, rows);
        float[] magnitude = magnitudes(w, x, n);

        // The whole matrix, then an inner row range: rows outside it must stay untouched.
        float[] y = new float[n * rows];
        w.matmul(x, y, n, 0, rows);
        check(type, expected, y, magnitude, 0, rows, n, rows);

        int start = rows > 2 ? 1 : 0;
        int end = rows > 2 ? rows - 1 : rows;
        float[] part = new float[n * rows];
        java.util.Arrays.fill(part, Float.NaN);
        w.matmul(x, part, n, start, end);
        check(type, expected, part, magnitude, start, end, n, rows);
        // Batch invariance: each token alone gives the same bits as inside the batch (the pipeline batches jobs).
        for (int tk = 0; tk < n; tk++) {
            float[] one = new float[rows];
            w.matmul(java.util.Arrays.copyOfRange(x, tk * cols, (tk + 1) * cols), one, 1, 0, rows);
            for (int r = 0; r < rows; r++) {
                assertEquals(y[tk * rows + r], one[r], type + ": token " + tk + " of " + n + ", row " + r + " alone differs from in the batch");
            }
        }
        for (int tk = 0; tk < n; tk++) {
            for (int r = 0; r < rows; r++) {
                if (r < start || r >= end) {
                    assertTrue(Float.isNaN(part[tk * rows + r]), type + ": row " + r + " outside [" + start + ", " + end + ") was written");
                }
            }
        }
    }

    private static float[] magnitudes(WeightMatrix w, float[] x, int n) {
        int rows = w.rows();
        int cols = w.cols();
        float[] row = new float[cols];
        float[] mag = new float[n * rows];
        for (int r = 0; r < rows; r++) {
            w.dequantizeRow(r, row, 0);
            for (int t = 0; t < n; t++) {
                double s = 0;
                for (int c = 0; c < cols; c++) {
                    s += Math.abs((double) row[c] * x[t * cols + c]);
                }
                mag[t * rows + r] = (float) s;
            }
        }
        return mag;
    }

    private static void check(GgmlType type, float[] expected, float[] actual, float[] mag, int start, int end, int n, int rows) {
        for (int t = 0; t < n; t++) {
            for (int r = start; r < end; r++) {
                int i = t * rows + r;
                double tol = 1e-5 * mag[i] + 1e-6;
                if (!(Math.abs(expected[i] - actual[i]) <= tol)) {
                    fail(type + ": y[t=" + t + ", r=" + r + "] = " + actual[i] + ", naive " + expected[i] + " (tolerance " + tol + ")");
                }
            }
        }
    }
}
