package dev.bunshin.models.plan;

import java.util.Objects;

/**
 * What one node offers a pipeline stage.
 *
 * @param name        for messages, e.g. {@code worker-2}
 * @param memoryBytes memory the stage may use (weights + KV cache); {@link Long#MAX_VALUE} when unknown
 * @param speed       relative compute speed (1 = reference); a node twice as fast gets about twice the layers
 */
public record NodeCapacity(String name, long memoryBytes, double speed) {
    public NodeCapacity {
        Objects.requireNonNull(name, "name == null");
        if (memoryBytes <= 0) {
            throw new IllegalArgumentException("node " + name + ": memory must be > 0, got " + memoryBytes);
        }
        if (!(speed > 0) || Double.isInfinite(speed)) {
            throw new IllegalArgumentException("node " + name + ": speed must be > 0, got " + speed);
        }
    }

    /** A node with unknown (unbounded) memory. */
    public static NodeCapacity unbounded(String name, double speed) {
        return new NodeCapacity(name, Long.MAX_VALUE, speed);
    }

    public boolean memoryKnown() {
        return memoryBytes != Long.MAX_VALUE;
    }
}
