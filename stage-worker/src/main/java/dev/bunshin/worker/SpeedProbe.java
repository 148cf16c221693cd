package dev.bunshin.worker;

/**
 * A short matrix-vector probe (the shape of decode work) whose GFLOPS the planner uses to give faster workers
 * more layers. Takes tens of milliseconds; the number is relative, not a benchmark.
 */
final class SpeedProbe {

    private SpeedProbe() {}

    static double measureGflops() {
        int n = 512;
        float[] w = new float[n * n]; // F32 [n, n]
        float[] x = new float[n];
        float[] y = new float[n];
        for (int i = 0; i < w.length; i++) w[i] = (i % 7) * 0.01f;
        for (int i = 0; i < n; i++) x[i] = i * 0.001f;
        for (int warm = 0; warm < 20; warm++) matVec(w, x, y, n);
        int reps = 100;
        long t0 = System.nanoTime();
        for (int r = 0; r < reps; r++) matVec(w, x, y, n);
        long ns = Math.max(1, System.nanoTime() - t0);
        double flops = 2.0 * n * n * reps;
        return Math.max(0.001, flops / ns + (y[0] == 42f ? 1e-9 : 0)); // read y so the loop is not dead code
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
