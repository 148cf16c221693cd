package dev.bunshin.worker;

import dev.bunshin.engine.TestModels;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertTrue;

class SpeedProbeTest {

    @Test
    void measuresAPositiveFiniteSpeedQuickly() {
        long t0 = System.nanoTime();
        double gflops = SpeedProbe.measureGflops();
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(gflops > 0 && Double.isFinite(gflops), "speed " + gflops);
        assertTrue(ms < 10_000, "probe took " + ms + " ms");
    }

    @Test
    void eachBackendIsTimedOnTheModelsOwnFirstLayer() throws Exception {
        for (String backend : new String[] {"java", "llama.cpp"}) {
            long t0 = System.nanoTime();
            double gflops = SpeedProbe.measureBackend(backend, TestModels.stories260K(), 1);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            System.err.printf("speed probe, stories260K layer 0, %s: %.3f GFLOPS in %d ms%n", backend, gflops, ms);
            assertTrue(gflops > 0 && Double.isFinite(gflops), backend + ": speed " + gflops);
            assertTrue(ms < 20_000, backend + ": probe took " + ms + " ms");
        }
    }

    @Test
    void aModelTheBackendCannotLoadFallsBackToTheScalarProbe() {
        double gflops = SpeedProbe.measure("java", Path.of("/nonexistent/model.gguf"), 1);
        assertTrue(gflops > 0 && Double.isFinite(gflops), "fallback speed " + gflops);
    }
}
