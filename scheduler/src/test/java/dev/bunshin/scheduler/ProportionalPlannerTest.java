package dev.bunshin.scheduler;

import dev.bunshin.protocol.StagePlan;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class ProportionalPlannerTest {

    private static final LayerSizes SIZES = new LayerSizes(new long[]{100, 100, 100, 100, 100, 100}, 50, 70);

    private static WorkerInfo w(String id, long mem, double speed) {
        return new WorkerInfo(id, "h", mem, 1, speed, 0, 0);
    }

    @Test
    void equalWorkersGetEqualContiguousRanges() {
        StagePlan p = ProportionalPlanner.plan("m", 1, List.of(w("a", 1000, 1), w("b", 1000, 1), w("c", 1000, 1)), SIZES);
        assertEquals(3, p.stages().size());
        assertEquals(List.of(0, 2, 4), p.stages().stream().map(StagePlan.Stage::layerStart).toList());
        assertEquals(6, p.stages().getLast().layerEnd());
        assertEquals("bunshin.m.stage-1", p.stages().get(1).topic());
        assertEquals("b", p.stages().get(1).workerId());
    }

    @Test
    void fasterWorkersGetMoreLayers() {
        StagePlan p = ProportionalPlanner.plan("m", 1, List.of(w("fast", 10_000, 2), w("slow", 10_000, 1)), SIZES);
        assertEquals(4, p.stages().get(0).layerEnd() - p.stages().get(0).layerStart());
        assertEquals(2, p.stages().get(1).layerEnd() - p.stages().get(1).layerStart());
    }

    @Test
    void neverBeyondAWorkersMemory() {
        // "small" can hold the embedding and one layer only (150 <= 160 < 250).
        StagePlan p = ProportionalPlanner.plan("m", 1, List.of(w("small", 160, 10), w("big", 10_000, 1)), SIZES);
        assertEquals(new StagePlan.Stage(0, "small", 0, 1, "bunshin.m.stage-0"), p.stages().get(0));
        assertEquals(new StagePlan.Stage(1, "big", 1, 6, "bunshin.m.stage-1"), p.stages().get(1));
        for (StagePlan.Stage s : p.stages()) {
            long mem = s.workerId().equals("small") ? 160 : 10_000;
            assertTrue(SIZES.bytes(s.layerStart(), s.layerEnd()) <= mem, s.toString());
        }
    }

    @Test
    void aWorkerThatHoldsNothingIsLeftOut() {
        StagePlan p = ProportionalPlanner.plan("m", 2, List.of(w("tiny", 10, 5), w("big", 10_000, 1)), SIZES);
        assertEquals(1, p.stages().size());
        assertEquals("big", p.stages().getFirst().workerId());
        assertEquals(2, p.epoch());
    }

    @Test
    void moreWorkersThanLayersUsesOneLayerEach() {
        LayerSizes two = new LayerSizes(new long[]{1, 1}, 0, 0);
        StagePlan p = ProportionalPlanner.plan("m", 1, List.of(w("a", 10, 1), w("b", 10, 1), w("c", 10, 1)), two);
        assertEquals(2, p.stages().size());
    }

    @Test
    void tooLittleMemoryIsAClearError() {
        PlanException e = assertThrows(PlanException.class,
                () -> ProportionalPlanner.plan("m", 1, List.of(w("a", 300, 1), w("b", 300, 1)), SIZES));
        assertTrue(e.getMessage().contains("does not fit"), e.getMessage());
        assertTrue(e.getMessage().contains("layers ["), e.getMessage());
    }
}
