package dev.bunshin.db;

/**
 * A live worker as registered in the {@code workers} table.
 *
 * @param memoryBytes budget for weights
 * @param speedGflops measured by the worker's matmul probe; the planner gives faster workers more layers
 * @param loadedEpoch plan epoch the worker has loaded, or 0
 * @param registeredAt when this incarnation registered (epoch millis): a restarted worker lost its KV caches
 */
public record WorkerInfo(String id, String host, long memoryBytes, int threads, double speedGflops, int loadedEpoch,
                         long registeredAt) {

    /** Identity of this incarnation of the worker. */
    public String incarnation() {
        return id + "@" + registeredAt;
    }
}
