package dev.bunshin.scheduler;

import dev.bunshin.engine.TestModels;
import dev.bunshin.models.plan.PlanException;
import dev.bunshin.db.StagePlan;
import dev.bunshin.db.WorkerInfo;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class PlanningTest {

    private static WorkerInfo w(String id, long mem, double speed) {
        return new WorkerInfo(id, "h", mem, 1, speed, 0, 0);
    }

    @Test
    void threeEqualWorkersGetThreeContiguousStagesOfStories260K() throws Exception {
        ModelShape shape = ModelShape.read(TestModels.stories260K());
        assertEquals(5, shape.info().nLayers());
        StagePlan p = Planning.plan("stories260K", 4, List.of(w("a", 1L << 30, 1), w("b", 1L << 30, 1),
                w("c", 1L << 30, 1)), shape, 2048);
        assertEquals(4, p.epoch());
        assertEquals(3, p.stages().size());
        assertEquals(0, p.stages().getFirst().layerStart());
        assertEquals(5, p.stages().getLast().layerEnd());
        for (int k = 0; k < 3; k++) {
            StagePlan.Stage s = p.stages().get(k);
            assertEquals("bunshin.stories260K.stage-" + k, s.topic());
            assertEquals(List.of("a", "b", "c").get(k), s.workerId());
            assertTrue(s.layerEnd() - s.layerStart() >= 1);
        }
        assertEquals("bunshin.stories260K.stage-0", p.nextTopic(p.stages().getLast()), "the tail feeds stage 0");
    }

    @Test
    void workersThatCannotHoldTheModelAreAClearError() throws Exception {
        ModelShape shape = ModelShape.read(TestModels.stories260K());
        PlanException e = assertThrows(PlanException.class,
                () -> Planning.plan("m", 1, List.of(w("tiny", 1000, 1)), shape, 2048));
        assertFalse(e.getMessage().isBlank());
    }
}
