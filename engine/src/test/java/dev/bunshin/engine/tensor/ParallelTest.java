package dev.bunshin.engine.tensor;

import dev.bunshin.engine.gguf.GgmlType;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ParallelTest {

    @Test
    void runsEveryTaskExactlyOnceAcrossManyCalls() {
        try (Parallel p = new Parallel(3)) {
            for (int call = 0; call < 200; call++) {
                int n = 1 + call % 37;
                AtomicIntegerArray hits = new AtomicIntegerArray(n);
                p.forEach(n, hits::incrementAndGet);
                for (int i = 0; i < n; i++) assertEquals(1, hits.get(i), "call " + call + " task " + i);
            }
        }
    }

    @Test
    void rethrowsATaskFailureInTheCaller() {
        try (Parallel p = new Parallel(2)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> p.forEach(16, i -> {
                if (i == 11) throw new IllegalStateException("task 11");
            }));
            assertEquals("task 11", e.getMessage());
            p.forEach(4, i -> { }); // still usable
        }
    }

    @Test
    void parallelMatmulEqualsOneThreadBitForBit() throws Exception {
        for (GgmlType type : new GgmlType[]{GgmlType.F32, GgmlType.Q8_0, GgmlType.Q4_0}) {
            WeightMatrix w = WeightMatrices.of(RandomTensors.of(type, 301, 256, 3));
            float[] x = RandomTensors.activations(5, 256, 4);
            float[] one = new float[5 * 301], many = new float[5 * 301];
            w.matmul(x, one, 5, 0, 301);
            try (Parallel p = new Parallel(3)) {
                p.matmul(w, x, many, 5);
            }
            assertArrayEquals(one, many, type.name());
        }
    }
}
