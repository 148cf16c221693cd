package dev.bunshin.engine.tensor;

import dev.bunshin.engine.gguf.GgmlType;
import dev.bunshin.engine.gguf.GgufException;
import dev.bunshin.engine.gguf.GgufTensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every fast kernel against {@link NaiveMatmul}. Tolerance: |fast - naive| ≤ 1e-5 · Σ_c |W[r,c]·x[c]| + 1e-6,
 * i.e. float rounding of a sum of that magnitude (the naive one sums in double).
 */
class WeightMatrixTest {

    private static final int[][] SHAPES = {{1, 32}, {7, 64}, {33, 96}, {130, 256}, {19, 512}, {5, 2048}};

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F32", "F16", "BF16", "Q8_0", "Q4_0"})
    void fastKernelMatchesNaive(GgmlType type) throws Exception {
        for (int[] shape : SHAPES) {
            for (int n : new int[]{1, 3, 4, 5, 9}) {
                check(type, shape[0], shape[1], n);
            }
        }
        if (type.blockSize == 1) {
            check(type, 11, 172, 5); // a row length that is not a multiple of the vector length
            check(type, 3, 3, 2);
        }
    }

    private static void check(GgmlType type, int rows, int cols, int n) throws GgufException {
        GgufTensor t = RandomTensors.of(type, rows, cols, 31L * rows + cols);
        WeightMatrix w = WeightMatrices.of(t);
        assertEquals(type, w.type());
        assertEquals(rows, w.rows());
        assertEquals(cols, w.cols());
        float[] x = RandomTensors.activations(n, cols, 7L * n + cols);
        float[] fast = new float[n * rows];
        float[] ref = new float[n * rows];
        // Split the rows in uneven ranges, as the thread pool does.
        int mid = rows / 3;
        w.matmul(x, fast, n, 0, mid);
        w.matmul(x, fast, n, mid, rows);
        NaiveMatmul.matmul(w, x, ref, n, 0, rows);
        float[] row = new float[cols];
        for (int r = 0; r < rows; r++) {
            w.dequantizeRow(r, row, 0);
            for (int tk = 0; tk < n; tk++) {
                double mag = 0;
                for (int c = 0; c < cols; c++) mag += Math.abs(row[c] * x[tk * cols + c]);
                float got = fast[tk * rows + r], want = ref[tk * rows + r];
                assertTrue(Math.abs(got - want) <= 1e-5 * mag + 1e-6,
                        type + " [" + rows + "," + cols + "] n=" + n + " row " + r + " token " + tk
                                + ": fast " + got + " naive " + want + " (magnitude " + mag + ")");
            }
        }
        // Batch invariance: each token alone gives the same bits as in the batch.
        for (int tk = 0; tk < n; tk++) {
            float[] one = new float[rows];
            w.matmul(Arrays.copyOfRange(x, tk * cols, (tk + 1) * cols), one, 1, 0, rows);
            assertArrayEquals(Arrays.copyOfRange(fast, tk * rows, (tk + 1) * rows), one,
                    type + " token " + tk + " of " + n + " differs from the same token alone");
        }
    }

    @Test
    void q4_0NibblesDecodeAsGgmlDoes() throws Exception {
        GgufTensor t = RandomTensors.of(GgmlType.Q4_0, 1, 32, 1);
        // d = 1.0, qs[0] = 0x3A: value 0 = 0xA - 8 = 2, value 16 = 0x3 - 8 = -5.
        t.data().set(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED, 0, Float.floatToFloat16(1f));
        t.data().set(java.lang.foreign.ValueLayout.JAVA_BYTE, 2, (byte) 0x3A);
        float[] row = new float[32];
        WeightMatrices.of(t).dequantizeRow(0, row, 0);
        assertEquals(2f, row[0]);
        assertEquals(-5f, row[16]);
    }

    @Test
    void refusesUnsupportedTypeNamingTensorAndTypes() {
        GgufTensor t = new GgufTensor("blk.0.attn_q.weight", new long[]{256, 2}, GgmlType.IQ2_XXS, 0,
                java.lang.foreign.MemorySegment.ofArray(new byte[132]));
        GgufException e = assertThrows(GgufException.class, () -> WeightMatrices.of(t));
        assertTrue(e.getMessage().contains("blk.0.attn_q.weight") && e.getMessage().contains("IQ2_XXS")
                && e.getMessage().contains("Q8_0"), e.getMessage());
    }
}
