package dev.bunshin.models.plan;

import dev.bunshin.engine.LayerRange;

/**
 * One stage of a plan: which node runs which layers, and the memory that takes.
 *
 * @param node        index of the node in the planner's input list
 * @param nodeName    its name
 * @param range       the layers it runs
 * @param weightBytes tensor bytes of its layers, plus the embedding if first and the output head if last
 * @param kvBytes     KV cache bytes of its layers
 * @param memoryBytes the node's memory ({@link Long#MAX_VALUE} when unknown)
 */
public record StageAssignment(int node, String nodeName, LayerRange range, long weightBytes, long kvBytes,
                              long memoryBytes) {

    /** Weights plus KV cache. */
    public long totalBytes() {
        return weightBytes + kvBytes;
    }
}
