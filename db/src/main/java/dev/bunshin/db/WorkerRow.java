package dev.bunshin.db;

/**
 * A worker as an operator sees it: its row in the {@code workers} table (db/migrations/V10, V14, V17), live or not.
 * {@link WorkerInfo} is the planner's narrower view of a live one.
 *
 * @param backend           "java" or "llama.cpp"
 * @param backendDetail     one line on what the backend runs on (library, release, CPU variant or GPU devices); null
 *                          until the worker reports it
 * @param memoryBytes       budget for weights the worker advertised (bunshin.worker.memory)
 * @param speedGflops       measured by the worker's matmul probe
 * @param status            "live", "lost" (silent past the scheduler's timeout) or "stopped"
 * @param loadedEpoch       plan epoch whose layers the worker has loaded, 0 for none
 * @param loadError         why it could not load its assignment, or null
 * @param heartbeatAgeMillis time since its last heartbeat, by the database's clock
 */
public record WorkerRow(String id, String host, String backend, String backendDetail, long memoryBytes, int threads,
                        double speedGflops, String status, int loadedEpoch, String loadError,
                        long heartbeatAgeMillis) {
}
