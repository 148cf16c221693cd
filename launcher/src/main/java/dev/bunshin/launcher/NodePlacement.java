package dev.bunshin.launcher;

import java.util.List;
import java.util.Map;

/**
 * Where {@link LocalStack} runs each of its processes: a command prefix that places an app (CPU pinning, a network
 * namespace, a memory cgroup), config that goes with that place (the address its HTTP server listens on), and a
 * call once a process started (to pin servers already running). {@link #SAME_HOST} changes nothing: everything
 * shares this machine, as {@code ./bunshin up} runs it.
 *
 * <p>Names: {@code kafka}, {@code postgres}, {@code scheduler}, {@code submitter}, {@code worker-1} … {@code worker-N}.
 */
public interface NodePlacement {

    NodePlacement SAME_HOST = new NodePlacement() {};

    /** Words put before an app's {@code java ...} command (each execs the next: the pid stays the app's). */
    default List<String> commandPrefix(String app) {
        return List.of();
    }

    /**
     * Whether the app runs off this machine's loopback (in a network namespace of its own): it then reaches Kafka
     * as another machine does, through the shared listener and its login.
     */
    default boolean offLoopback(String app) {
        return false;
    }

    /** Config keys that replace the app's own (e.g. {@code quarkus.http.host} inside a namespace). */
    default Map<String, String> config(String app) {
        return Map.of();
    }

    /** The app's {@code -Xmx}, given the one the stack would use (e.g. smaller under a memory cap). */
    default String heap(String app, String proposed) {
        return proposed;
    }

    /**
     * Loopback listeners of their own that the stack's broker opens for some apps (a simulated node's way in through
     * a link of its own: see {@link #route}); none by default.
     */
    default List<LocalKafka.Route> brokerRoutes() {
        return List.of();
    }

    /**
     * The {@code host:port} that {@code app} uses for {@code service} ({@code kafka}, {@code postgres}) found at
     * {@code hostPort}: the same by default, or a link of the app's own in between (e.g. a {@link DelayLink}).
     */
    default String route(String app, String service, String hostPort) {
        return hostPort;
    }

    /** Called once a process runs: {@code pids} are its process and its descendants now. */
    default void started(String app, List<Long> pids) {}
}
