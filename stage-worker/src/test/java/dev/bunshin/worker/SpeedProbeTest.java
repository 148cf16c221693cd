package dev.bunshin.worker;

import org.junit.jupiter.api.Test;

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
}
