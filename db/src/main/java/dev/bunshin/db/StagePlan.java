package dev.bunshin.db;

import java.util.List;
import java.util.Objects;

/**
 * Which worker runs which contiguous layer range, under one plan epoch. Stored in the {@code stage_plans} table by
 * the scheduler and read from there by the workers; every activation record carries the epoch it was sent under.
 *
 * @param model         model id
 * @param epoch         increases with every re-plan (1 is the first plan)
 * @param contextLength positions per job under this plan, derived once by the scheduler (bunshin.context-length
 *                      or the model's trained context); 0 for a plan stored before it was recorded
 * @param stages        in pipeline order; stage 0 embeds tokens, the last one samples
 */
public record StagePlan(String model, int epoch, int contextLength, List<Stage> stages) {

    /** One stage: layers {@code [layerStart, layerEnd)} on {@code workerId}, reading {@code topic}. */
    public record Stage(int index, String workerId, int layerStart, int layerEnd, String topic) {
    }

    public StagePlan {
        Objects.requireNonNull(model, "model == null");
        stages = List.copyOf(stages);
        if (contextLength < 0) throw new IllegalArgumentException("plan " + epoch + ": context length " + contextLength);
        if (stages.isEmpty()) throw new IllegalArgumentException("plan " + epoch + " has no stages");
        for (int k = 0; k < stages.size(); k++) {
            Stage s = stages.get(k);
            if (s.index() != k) throw new IllegalArgumentException("plan " + epoch + ": stage " + k + " has index " + s.index());
            if (k > 0 && stages.get(k - 1).layerEnd() != s.layerStart()) {
                throw new IllegalArgumentException("plan " + epoch + ": stage " + k + " is not contiguous");
            }
        }
        if (stages.getFirst().layerStart() != 0) throw new IllegalArgumentException("plan " + epoch + " does not start at layer 0");
    }

    /** The stage run by {@code workerId}, or null. */
    public Stage stageOf(String workerId) {
        for (Stage s : stages) {
            if (s.workerId().equals(workerId)) return s;
        }
        return null;
    }

    public boolean isLast(Stage s) {
        return s.index() == stages.size() - 1;
    }

    /** Topic the stage after {@code s} reads; for the last stage, stage 0's (the tail feeds DECODEs back). */
    public String nextTopic(Stage s) {
        return stages.get(isLast(s) ? 0 : s.index() + 1).topic();
    }
}
