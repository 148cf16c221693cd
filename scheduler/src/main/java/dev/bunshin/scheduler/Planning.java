package dev.bunshin.scheduler;

import dev.bunshin.models.plan.NodeCapacity;
import dev.bunshin.models.plan.StageAssignment;
import dev.bunshin.models.plan.StagePlanner;
import dev.bunshin.db.StagePlan;
import dev.bunshin.db.WorkerInfo;
import dev.bunshin.protocol.Topics;

import java.util.ArrayList;
import java.util.List;

/**
 * The live workers → a {@link StagePlan}, through the engine's pure {@link StagePlanner} (contiguous ranges in
 * proportion to speed × memory, never beyond a worker's memory).
 *
 * <p>Memory counted per stage: its weights, plus a KV cache for ONE sequence at the full context. KV caches grow
 * with use (the engine reserves positions as they come), so many short jobs fit where one long one would; a
 * worker that runs out fails loudly and the scheduler re-plans without it.
 */
final class Planning {

    private Planning() {}

    /** @throws dev.bunshin.models.plan.PlanException naming the shortfall when the workers cannot hold the model */
    static StagePlan plan(String modelId, int epoch, List<WorkerInfo> workers, ModelShape shape, int contextLength) {
        List<NodeCapacity> nodes = new ArrayList<>(workers.size());
        for (WorkerInfo w : workers) nodes.add(new NodeCapacity(w.id(), w.memoryBytes(), w.speedGflops()));
        long kvPerLayer = dev.bunshin.models.plan.ModelFootprint.kvBytesPerLayer(contextLength,
                shape.info().nHeadKv(), shape.info().headDim(), 1);
        List<StageAssignment> assignments = StagePlanner.plan(shape.footprint().layerBytes(),
                shape.footprint().firstExtra(), shape.footprint().lastExtra(), kvPerLayer, nodes);
        List<StagePlan.Stage> stages = new ArrayList<>(assignments.size());
        for (StageAssignment a : assignments) {
            int k = stages.size();
            stages.add(new StagePlan.Stage(k, a.nodeName(), a.range().start(), a.range().end(), Topics.stage(modelId, k)));
        }
        return new StagePlan(modelId, epoch, contextLength, stages);
    }
}
