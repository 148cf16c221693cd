package dev.bunshin.worker;

/**
 * A short matrix-vector probe (the shape of decode work) whose GFLOPS the planner uses to give faster workers
 * more layers. Takes tens of milliseconds; the number is relative, not a benchmark.
 */
final class SpeedProbe {

    private SpeedProbe() {}

    static double measureGflops() {
        int n = 256;
        float[] w = new float[n * n]; // F32 [n, n]
        float[] x = new float[n];
        float[] y = new float[n];
        for (int i = 0; i < w.length; i++) w[i] = (i % 7) * 0.01f;
        for (int i = 0; i < n; i++) x[i] = i * 0.001f;
        for (int warm = 0; warm < 200; warm++) matVec(w, x, y, n); // let the JIT compile it first
        // Best of several rounds: on a shared machine the slowest rounds measure the neighbours, not us.
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
