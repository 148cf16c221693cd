package dev.bunshin.models.gguf;

import dev.bunshin.engine.tensor.WeightMatrix;
import dev.bunshin.engine.tensor.WeightMatrices;
import dev.bunshin.engine.gguf.GgmlType;
import dev.bunshin.engine.gguf.GgufTensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.MemorySegment;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Round trips F32 → {@link Quantizer} → {@link WeightMatrix#dequantizeRow}: the RMS error, relative to the RMS of
 * the data, stays under a bound derived from each format's step (uniform rounding error is step/√12; the bounds
 * are about 1.5× that for N(0,1) data in blocks of 16–32).
 */
class QuantizerTest {

    static Stream<Arguments> bounds() {
        return Stream.of(
                Arguments.of(GgmlType.Q4_1, 0.12), Arguments.of(GgmlType.Q5_0, 0.06), Arguments.of(GgmlType.Q5_1, 0.06),
                Arguments.of(GgmlType.Q2_K, 0.5), Arguments.of(GgmlType.Q3_K, 0.25), Arguments.of(GgmlType.Q4_K, 0.12),
                Arguments.of(GgmlType.Q5_K, 0.06), Arguments.of(GgmlType.Q6_K, 0.03),
                Arguments.of(GgmlType.Q8_0, 0.01), Arguments.of(GgmlType.Q4_0, 0.12),
                Arguments.of(GgmlType.F16, 0.001), Arguments.of(GgmlType.BF16, 0.005), Arguments.of(GgmlType.F32, 0.0));
    }

    static float[] roundTrip(GgmlType type, float[] values, int cols) throws Exception {
        byte[] bytes = Quantizer.quantize(type, values, cols);
        assertEquals(type.byteSize(values.length), bytes.length);
        int rows = values.length / cols;
        WeightMatrix w = WeightMatrices.of(new GgufTensor("q", new long[] {cols, rows}, type, 0, MemorySegment.ofArray(bytes)));
        float[] out = new float[values.length];
        for (int r = 0; r < rows; r++) {
            w.dequantizeRow(r, out, r * cols);
        }
        return out;
    }

    static double relativeRmsError(float[] a, float[] b) {
        double err = 0;
        double sum = 0;
        for (int i = 0; i < a.length; i++) {
            err += (a[i] - b[i]) * (double) (a[i] - b[i]);
            sum += a[i] * (double) a[i];
        }
        return Math.sqrt(err / sum);
    }

    @ParameterizedTest(name = "{0} ≤ {1}")
    @MethodSource("bounds")
    void gaussianRoundTripWithinBound(GgmlType type, double bound) throws Exception {
        Random rnd = new Random(type.id);
        int cols = 512;
        float[] v = new float[3 * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (rnd.nextGaussian() * 0.02);
        }
        double e = relativeRmsError(v, roundTrip(type, v, cols));
        assertTrue(e <= bound, type + ": relative RMS error " + e + " > " + bound);
    }

    @ParameterizedTest(name = "{0} ≤ {1}")
    @MethodSource("bounds")
    void shiftedAndZeroBlocksRoundTrip(GgmlType type, double bound) throws Exception {
        // All-positive data (mins must reach them), one all-zero super-block, one with a single outlier.
        Random rnd = new Random(7 + type.id);
        int cols = 768;
        float[] v = new float[cols];
        for (int i = 0; i < 256; i++) {
            v[i] = 1f + rnd.nextFloat();
        }
        for (int i = 512; i < 768; i++) {
            v[i] = (float) rnd.nextGaussian() * 0.1f;
        }
        v[600] = 3f;
        float[] back = roundTrip(type, v, cols);
        for (int i = 256; i < 512; i++) {
            assertEquals(0f, back[i], 0f, type + ": zero block value " + i);
        }
        double e = relativeRmsError(v, back);
        assertTrue(e <= bound, type + ": relative RMS error " + e + " > " + bound);
        assertEquals(3f, back[600], 3f * bound * 2, type + ": the outlier");
    }

    @Test
    void floatFormatsRoundTripExactlyWhereRepresentable() {
        float[] v = {1f, -2.5f, 0.15625f, 65504f};
        byte[] f16 = Quantizer.quantize(GgmlType.F16, v, 4);
        for (int i = 0; i < v.length; i++) {
            short h = (short) ((f16[2 * i] & 0xFF) | (f16[2 * i + 1] << 8));
            assertEquals(v[i], Float.float16ToFloat(h));
        }
        byte[] bf16 = Quantizer.quantize(GgmlType.BF16, new float[] {1f, -2.5f, 1.00390625f}, 3);
        // 1 + 2^-8 lies exactly between two bfloat16 values: ties go to the even one, 1.0.
        assertEquals(0x3F80, (bf16[0] & 0xFF) | ((bf16[1] & 0xFF) << 8));
        assertEquals(0xC020, (bf16[2] & 0xFF) | ((bf16[3] & 0xFF) << 8));
        assertEquals(0x3F80, (bf16[4] & 0xFF) | ((bf16[5] & 0xFF) << 8));
    }

    @Test
    void refusesPartialBlocks() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Quantizer.quantize(GgmlType.Q4_K, new float[300], 300));
        assertTrue(e.getMessage().contains("300"), e.getMessage());
    }
}
