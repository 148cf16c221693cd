package dev.bunshin.engine.bench;

import dev.bunshin.engine.EngineOptions;
import dev.bunshin.engine.LayerRange;
import dev.bunshin.engine.StageInput;
import dev.bunshin.engine.StageRunner;
import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.engine.gguf.GgufTensor;
import dev.bunshin.engine.tensor.Parallel;
import dev.bunshin.engine.tensor.WeightMatrices;
import dev.bunshin.engine.tensor.WeightMatrix;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A quick decode-step profile (a main): one sequence's decode tok/s through {@link StageRunner}, against the time
 * of the same step's matrix products alone (every layer weight + the output head, n = 1, through the pool).
 * Usage: StepProfile MODEL.gguf THREADS [STEPS]
 */
public final class StepProfile {
    public static void main(String[] args) throws Exception {
        Path model = Path.of(args[0]);
        int threads = Integer.parseInt(args[1]);
        int steps = args.length > 2 ? Integer.parseInt(args[2]) : 48;
        try (GgufFile f = GgufFile.open(model)) {
            int nLayers = f.getInt("llama.block_count");
            try (StageRunner r = StageRunner.load(f, new LayerRange(0, nLayers), EngineOptions.defaults().withThreads(threads).withContextLength(512))) {
                int decodeReps = Integer.getInteger("reps", 3);
                for (int rep = 0; rep < decodeReps; rep++) {
                    long seq = rep;
                    r.forward(List.of(StageInput.ofTokens(seq, 0, new int[]{1, 2, 3, 4})));
                    long t0 = System.nanoTime();
                    for (int s = 0; s < steps; s++) r.forward(List.of(StageInput.ofTokens(seq, 4 + s, new int[]{5 + s})));
                    double sec = (System.nanoTime() - t0) / 1e9;
                    System.out.printf("decode rep %d: %.2f tok/s (%.2f ms/step)%n", rep, steps / sec, sec * 1000 / steps);
                    r.free(seq);
                }
            }
            List<WeightMatrix> ws = new ArrayList<>();
            for (GgufTensor t : f.tensorList()) {
                if (t.name().startsWith("blk.") && t.dims().length == 2 || t.name().equals("output.weight")) ws.add(WeightMatrices.of(f, t));
            }
            long bytes = 0;
            for (GgufTensor t : f.tensorList()) if (t.name().startsWith("blk.") && t.dims().length == 2 || t.name().equals("output.weight")) bytes += t.byteSize();
            {
                WeightMatrix w0 = ws.get(0);
                float[] x = new float[w0.cols()];
                for (int i = 0; i < x.length; i++) x[i] = (float) Math.sin(i);
                float[] y = new float[w0.rows()];
                int rowsHot = Integer.getInteger("hotRows", 128);
                for (int rep = 0; rep < 5; rep++) {
                    long t0 = System.nanoTime();
                    int n = 4000;
                    for (int s = 0; s < n; s++) w0.matmul(x, y, 1, 0, rowsHot);
                    double sec = (System.nanoTime() - t0) / 1e9;
                    System.out.printf("cache-hot 1 thread, %d rows: %.1f GB/s of int8 (%.2f Gweights/s)%n", rowsHot,
                            (double) n * rowsHot * w0.cols() / sec / 1e9, (double) n * rowsHot * w0.cols() / sec / 1e9);
                }
            }
            try (Parallel pool = new Parallel(threads)) {
                int maxCols = 0, maxRows = 0;
                for (WeightMatrix w : ws) { maxCols = Math.max(maxCols, w.cols()); maxRows = Math.max(maxRows, w.rows()); }
                float[] x = new float[maxCols];
                for (int i = 0; i < x.length; i++) x[i] = (float) Math.sin(i);
                float[] y = new float[maxRows];
                for (int rep = 0; rep < Integer.getInteger("mreps", 6); rep++) {
                    long t0 = System.nanoTime();
                    int n = 10;
                    for (int s = 0; s < n; s++) for (WeightMatrix w : ws) pool.matmul(w, x, y, 1);
                    double sec = (System.nanoTime() - t0) / 1e9 / n;
                    System.out.printf("matmuls only: %.2f ms/step (%.1f GB/s of file bytes)%n", sec * 1000, bytes / sec / 1e9);
                }
            }
        }
    }
}
