package dev.bunshin.engine.tensor;

import dev.bunshin.engine.gguf.GgmlType;

import java.util.Arrays;
import java.util.Locale;

/**
 * One thread, one kernel: weights per second of {@code matmul} on a random [rows, cols] matrix of each given type,
 * for batches of 1, 4 and 16 activation rows (medians of 9 timed passes after warm-up). A diagnostic for kernel
 * work, not a comparison with llama.cpp (that is {@code ./bunshin bench engine}).
 *
 * <pre>java ... dev.bunshin.engine.tensor.KernelRate Q4_0,Q4_K,Q6_K,Q8_0 [rows] [cols]</pre>
 */
public final class KernelRate {
    public static void main(String[] args) throws Exception {
        String[] types = (args.length > 0 ? args[0] : "Q8_0,Q4_0,Q4_K,Q6_K").split(",");
        int rows = args.length > 1 ? Integer.parseInt(args[1]) : 5632;
        int cols = args.length > 2 ? Integer.parseInt(args[2]) : 2048;
        for (String name : types) {
            GgmlType type = GgmlType.valueOf(name);
            WeightMatrix w = WeightMatrices.of(RandomTensors.of(type, rows, cols, 1));
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%-5s [%d x %d]:", name, rows, cols));
            for (int n : new int[] {1, 4, 6, 7, 16}) {
                float[] x = RandomTensors.activations(n, cols, 3);
                float[] y = new float[n * rows];
                int passes = Math.max(1, 16 / n);
                // Warm-up: C2 compiles the kernels (each tile's method on its own, so give every n two seconds).
                for (long end = System.nanoTime() + 2_000_000_000L; System.nanoTime() < end; ) w.matmul(x, y, n, 0, rows);
                double[] rates = new double[9];
                for (int i = 0; i < rates.length; i++) {
                    long t0 = System.nanoTime();
                    for (int p = 0; p < passes; p++) w.matmul(x, y, n, 0, rows);
                    rates[i] = (double) rows * cols * n * passes / (System.nanoTime() - t0);
                }
                Arrays.sort(rates);
                line.append(String.format(Locale.ROOT, "  n=%d %.2f Gw/s", n, rates[rates.length / 2]));
            }
            System.out.println(line);
        }
    }
}
