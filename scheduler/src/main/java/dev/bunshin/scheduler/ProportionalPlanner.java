package dev.bunshin.scheduler;

import dev.bunshin.protocol.StagePlan;
import dev.bunshin.protocol.Topics;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits the layers into contiguous stages, one per worker in the given order, in proportion to each worker's
 * measured speed and never beyond its memory budget. Pure function. A stop-gap until the engine's
 * {@code dev.bunshin.engine.plan.StagePlanner} is on main.
 *
 * <p>Greedy in worker order: each worker takes its speed share of the layers still unassigned (at least one,
 * leaving one for each later worker while layers last), cut down to what fits its memory; a worker that cannot
 * hold a single layer is left out. Workers beyond the number of layers get nothing.
 */
public final class ProportionalPlanner {

    private ProportionalPlanner() {}

    public static StagePlan plan(String modelId, int epoch, List<WorkerInfo> workers, LayerSizes sizes) {
        int nLayers = sizes.nLayers();
        List<StagePlan.Stage> stages = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < workers.size() && start < nLayers; i++) {
            WorkerInfo w = workers.get(i);
            int remaining = nLayers - start;
            double speedLeft = 0;
            for (int j = i; j < workers.size(); j++) speedLeft += workers.get(j).speedGflops();
            int after = workers.size() - i - 1;
            int share = (int) Math.round(remaining * w.speedGflops() / speedLeft);
            share = Math.max(1, Math.min(share, remaining - Math.min(after, remaining - 1)));
            int n = share;
            while (n > 0 && sizes.bytes(start, start + n) > w.memoryBytes()) n--;
            if (n == 0) continue;
            int k = stages.size();
            stages.add(new StagePlan.Stage(k, w.id(), start, start + n, Topics.stage(modelId, k)));
            start += n;
        }
        if (start < nLayers) {
            throw new PlanException("model " + modelId + " does not fit the " + workers.size() + " live worker(s): layers ["
                    + start + ", " + nLayers + ") need " + sizes.bytes(start, nLayers) + " more bytes");
        }
        return new StagePlan(modelId, epoch, stages);
    }
}
