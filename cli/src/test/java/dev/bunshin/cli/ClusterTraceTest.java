package dev.bunshin.cli;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class ClusterTraceTest {

    /** One job, prompt of 4 tokens (last position 3), then decode positions 4, 5, 6 through 2 stages. */
    @Test
    void splitsEachDecodeStepIntoItsStages() {
        Map<Long, Map<Integer, Long>> stage0 = new HashMap<>();
        Map<Long, Map<Integer, Long>> stage1 = new HashMap<>();
        // stage 0 topic: prefill (pos 3) sent at 0; decodes sent by the tail at 100, 200, 320
        stage0.put(7L, new TreeMap<>(Map.of(3, 0L, 4, 100L, 5, 200L, 6, 320L)));
        // stage 1 topic: stage 0's outputs, 40 / 50 / 60 ms after its inputs
        stage1.put(7L, new TreeMap<>(Map.of(3, 30L, 4, 140L, 5, 250L, 6, 380L)));
        ClusterTrace.Hops h = ClusterTrace.hops(List.of(stage0, stage1), List.of(7L, 8L));
        // steps at 4 and 5 are complete (6 has no next record); the prefill is left out
        assertEquals(2, h.steps());
        assertArrayEquals(new double[] {45, 65}, h.hopMs(), 1e-9); // stage 0: 40, 50; tail: 60, 70
        assertEquals(110, h.stepMs(), 1e-9); // 100, 120
    }
}
