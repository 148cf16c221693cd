package dev.bunshin.worker;

import dev.bunshin.engine.EngineOptions;
import dev.bunshin.engine.LayerRange;
import dev.bunshin.engine.StageBackend;
import dev.bunshin.engine.StageInput;
import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.engine.gguf.GgufTensor;
import dev.bunshin.llama.StageBackends;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Logger;

/**
 * How fast this worker runs the model, as the planner's GFLOPS: the model's first layer loaded on the worker's own
 * backend (the Java engine, or llama.cpp — a GPU build offloads it), timed on batched decode steps, the work a stage
 * spends its time on. So a llama.cpp worker outweighs a Java one on the same CPU, and a GPU worker gets more
 * layers. Takes a second or so (a llama.cpp worker writes, once, a one-layer shard). When that cannot run, a
 * short scalar matrix-vector probe stands in (relative, not a benchmark), with a warning.
 */
final class SpeedProbe {

    private static final Logger LOG = Logger.getLogger(SpeedProbe.class.getName());
    /** Sequences per timed call: a batch, as stages run them. */
    static final int BATCH = 16;

    private SpeedProbe() {}

    /** GFLOPS of {@code backend} on {@code model}'s first layer, or of the fallback probe when that fails. */
    static double measure(String backend, Path model, int threads) {
        try {
            return measureBackend(backend, model, threads);
        } catch (Exception | LinkageError e) {
            LOG.warning("speed probe on " + backend + " with " + model + " failed (" + e
                    + "); using a scalar matrix-vector probe instead");
            return measureGflops();
        }
    }

    /** GFLOPS of {@code backend} on {@code model}'s first layer: 2 × its weights × tokens ÷ time. */
    static double measureBackend(String backend, Path model, int threads) throws Exception {
        try (GgufFile file = GgufFile.open(model)) {
            long weights = 0;
            for (GgufTensor t : file.tensorList()) if (t.name().startsWith("blk.0.")) weights += t.elementCount();
            if (weights == 0) throw new IllegalStateException(model + " has no blk.0 tensors");
            StageBackend stage = StageBackends.load(backend, file, new LayerRange(0, 1),
                    new EngineOptions(threads, 128, BATCH));
            try {
                int pos = 0;
                stage.forward(step(pos++)); // first positions, then warm: JIT, buffers, a GPU's kernels
                long budget = System.nanoTime() + 2_000_000_000L;
                for (int i = 0; i < 8 && System.nanoTime() < budget; i++) stage.forward(step(pos++));
                // Best of a few rounds: on a shared machine the slowest ones measure the neighbours.
                double best = 0;
                for (int round = 0; round < 5 && pos < 120; round++) {
                    long t0 = System.nanoTime();
                    stage.forward(step(pos++));
                    long ns = Math.max(1, System.nanoTime() - t0);
                    best = Math.max(best, 2.0 * weights * BATCH / ns);
                }
                return Math.max(0.001, best);
            } finally {
                stage.close(); // and with it the sequences' caches
            }
        }
    }

    /** One decode step for each of {@link #BATCH} sequences at {@code pos}. */
    private static List<StageInput> step(int pos) {
        List<StageInput> batch = new ArrayList<>(BATCH);
        for (long s = 0; s < BATCH; s++) batch.add(StageInput.ofTokens(s, pos, new int[] {1 + (int) s}));
        return batch;
    }

    /** The fallback: a scalar F32 matrix-vector product in Java, tens of milliseconds. */
    static double measureGflops() {
        int n = 256;
        float[] w = new float[n * n]; // F32 [n, n]
        float[] x = new float[n];
        float[] y = new float[n];
        for (int i = 0; i < w.length; i++) w[i] = (i % 7) * 0.01f;
        for (int i = 0; i < n; i++) x[i] = i * 0.001f;
        for (int warm = 0; warm < 200; warm++) matVec(w, x, y, n); // let the JIT compile it first
        int reps = 50;
        double best = 0;
        for (int round = 0; round < 5; round++) {
            long t0 = System.nanoTime();
            for (int r = 0; r < reps; r++) matVec(w, x, y, n);
            long ns = Math.max(1, System.nanoTime() - t0);
            best = Math.max(best, 2.0 * n * n * reps / ns);
        }
        return Math.max(0.001, best + (y[0] == 42f ? 1e-9 : 0)); // read y so the loop is not dead code
    }

    private static void matVec(float[] w, float[] x, float[] y, int n) {
        for (int r = 0; r < n; r++) {
            float s = 0;
            int o = r * n;
            for (int c = 0; c < n; c++) s += w[o + c] * x[c];
            y[r] = s;
        }
    }
}
