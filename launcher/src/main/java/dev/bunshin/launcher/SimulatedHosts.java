package dev.bunshin.launcher;

import dev.bunshin.models.plan.ByteSize;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * N simulated hosts on this machine, one per stage worker: each worker pinned to its own cores ({@code taskset}),
 * optionally in its own network namespace behind a shaped veth ({@link NetworkNamespaces}) and under a memory cap
 * ({@link MemoryCgroup}). Kafka, PostgreSQL, the scheduler and the submitter share the cores left over (or every
 * core when none is left). A {@link NodePlacement} for {@link LocalStack#start(UpOptions, java.io.PrintStream,
 * NodePlacement)}; {@link #close()} removes the namespaces and cgroups (also from a shutdown hook).
 */
public final class SimulatedHosts implements NodePlacement, AutoCloseable {

    /**
     * @param nodes           stage workers, one per simulated host
     * @param coresPerNode    cores each node is pinned to
     * @param linkDelayMs     one-way delay on each node's link (0: none): {@code tc netem} on a veth where the kernel
     *                        has it, else a {@link DelayLink} for each of the node's connections to Kafka and PostgreSQL
     * @param linkRateMbit    rate of each node's link (0: unshaped)
     * @param memoryCapBytes  each worker's hard memory cap (0: none); also what it offers the planner
     * @param shareCores      no pinning: every node (and the shared services) runs on every core, for a run about
     *                        memory or behaviour with more nodes than the machine has cores; its speeds are not a
     *                        cluster's, and the report says so
     */
    public record Spec(int nodes, int coresPerNode, double linkDelayMs, int linkRateMbit, long memoryCapBytes,
                       boolean shareCores) {
        public Spec(int nodes, int coresPerNode, double linkDelayMs, int linkRateMbit, long memoryCapBytes) {
            this(nodes, coresPerNode, linkDelayMs, linkRateMbit, memoryCapBytes, false);
        }

        public Spec {
            if (nodes < 1) throw new IllegalArgumentException("--nodes must be at least 1: " + nodes);
            if (coresPerNode < 1) throw new IllegalArgumentException("--cores-per-node must be at least 1: " + coresPerNode);
            if (linkDelayMs < 0) throw new IllegalArgumentException("--link-delay must be >= 0: " + linkDelayMs);
            if (linkRateMbit < 0) throw new IllegalArgumentException("--link-rate must be >= 0: " + linkRateMbit);
            if (memoryCapBytes < 0) throw new IllegalArgumentException("memory cap must be >= 0: " + memoryCapBytes);
        }

        /** Whether the links are shaped (delayed or rate-limited). */
        public boolean shapedLinks() {
            return linkDelayMs > 0 || linkRateMbit > 0;
        }
    }

    /** Bytes the JVM uses beside its heap (code cache, metaspace, threads, mapped pages in use): kept out of -Xmx. */
    static final long NON_HEAP_BYTES = 224L << 20;

    private final Spec spec;
    private final List<List<Integer>> nodeCores = new ArrayList<>();
    private final List<Integer> sharedCores;
    private final List<MemoryCgroup> cgroups = new ArrayList<>();
    private NetworkNamespaces network;
    /** Why the delay runs through user-space relays (this kernel has no netem), or null: netem, or no delay. */
    private String relayReason;
    /** Node i's own broker listener, reached through {@link #kafkaLinks} i. */
    private final List<LocalKafka.Route> routes = new ArrayList<>();
    private final List<DelayLink> kafkaLinks = new ArrayList<>();
    /** A node's other relays (PostgreSQL), opened when its app starts: "app service host:port" → link. */
    private final Map<String, DelayLink> otherLinks = new java.util.concurrent.ConcurrentHashMap<>();

    private SimulatedHosts(Spec spec, List<Integer> cpus) {
        this.spec = spec;
        if (spec.shareCores()) {
            for (int i = 0; i < spec.nodes(); i++) nodeCores.add(List.copyOf(cpus));
            this.sharedCores = List.of();
            return;
        }
        for (int i = 0; i < spec.nodes(); i++) {
            nodeCores.add(List.copyOf(cpus.subList(i * spec.coresPerNode(), (i + 1) * spec.coresPerNode())));
        }
        this.sharedCores = List.copyOf(cpus.subList(spec.nodes() * spec.coresPerNode(), cpus.size()));
    }

    /**
     * Null when {@code spec} can be simulated here, else what is missing (root, {@code taskset}, cores, netem,
     * cgroups): for a message that refuses the run before anything starts.
     */
    public static String unavailableReason(Spec spec) {
        if (!HostCommand.available("taskset")) {
            return "pinning needs `taskset` (util-linux), which is not installed";
        }
        List<Integer> cpus = allowedCpus();
        if (spec.shareCores() ? spec.coresPerNode() > cpus.size() : spec.nodes() * spec.coresPerNode() > cpus.size()) {
            return spec.shareCores()
                    ? spec.coresPerNode() + " cores per node, but this process may use " + cpus.size() + " (" + cpus + ")"
                    : spec.nodes() + " nodes x " + spec.coresPerNode() + " cores need " + spec.nodes() * spec.coresPerNode()
                    + " cores; this process may use " + cpus.size() + " (" + cpus + ") (--share-cores runs them unpinned)";
        }
        if (spec.linkDelayMs() > 0) {
            String why = NetworkNamespaces.netemUnavailableReason();
            // Without netem the delay runs through user-space relays on loopback, which shape no rate.
            if (why != null && spec.linkRateMbit() > 0) {
                return "--link-delay with --link-rate needs `tc netem`: " + why
                        + " (--link-delay alone runs through user-space relays)";
            }
        } else if (spec.linkRateMbit() > 0) {
            String why = NetworkNamespaces.tbfUnavailableReason();
            if (why != null) return "--link-rate needs `tc tbf`: " + why;
        }
        if (spec.memoryCapBytes() > 0) {
            String why = MemoryCgroup.unavailableReason();
            if (why != null) return "a memory cap needs a memory cgroup: " + why;
        }
        return null;
    }

    /** Sets the hosts up (namespaces, cgroups); throws naming what is missing. */
    public static SimulatedHosts create(Spec spec) {
        String why = unavailableReason(spec);
        if (why != null) {
            throw new IllegalStateException("cannot simulate " + spec.nodes() + " hosts: " + why);
        }
        SimulatedHosts hosts = new SimulatedHosts(spec, allowedCpus());
        try {
            String netem = spec.linkDelayMs() > 0 ? NetworkNamespaces.netemUnavailableReason() : null;
            if (netem != null) {
                hosts.openRelays(netem);
            } else if (spec.shapedLinks()) {
                hosts.network = NetworkNamespaces.create(spec.nodes(), spec.linkDelayMs(), spec.linkRateMbit());
            }
            if (spec.memoryCapBytes() > 0) {
                String tag = Long.toHexString(ProcessHandle.current().pid());
                for (int i = 1; i <= spec.nodes(); i++) {
                    hosts.cgroups.add(MemoryCgroup.create("bunshin-" + tag + "-worker-" + i, spec.memoryCapBytes()));
                }
            }
            return hosts;
        } catch (RuntimeException e) {
            hosts.close();
            throw e;
        }
    }

    /** Each node's own broker listener behind a relay that delays it (the PostgreSQL relays open with the apps). */
    private void openRelays(String netemMissing) {
        relayReason = netemMissing;
        for (int i = 0; i < spec.nodes(); i++) {
            int brokerPort = Ports.free();
            DelayLink link = DelayLink.open("127.0.0.1", brokerPort, spec.linkDelayMs());
            kafkaLinks.add(link);
            routes.add(new LocalKafka.Route("NODE" + (i + 1), brokerPort, link.port()));
        }
    }

    /** Whether the link delay runs through user-space relays (this kernel has no netem). */
    public boolean relayed() {
        return relayReason != null;
    }

    /** The cores node 1 gets under {@code spec}: where the single-node baseline runs, for a fair comparison. */
    public static List<Integer> coresOfFirstNode(Spec spec) {
        return List.copyOf(allowedCpus().subList(0, spec.coresPerNode()));
    }

    public Spec spec() {
        return spec;
    }

    /** The cores node {@code i} (0-based) runs on. */
    public List<Integer> cores(int i) {
        return nodeCores.get(i);
    }

    /** The cores Kafka, PostgreSQL, the scheduler and the submitter share; empty: every core (none was left). */
    public List<Integer> sharedCores() {
        return sharedCores;
    }

    /** The address the stack's servers must bind to for the nodes to reach them, or null (loopback will do). */
    public String bindAddress() {
        return network == null ? null : network.hostAddress();
    }

    /** Worker {@code i}'s (0-based) memory cgroup, or null without a cap. */
    public MemoryCgroup cgroup(int i) {
        return cgroups.isEmpty() ? null : cgroups.get(i);
    }

    /** Where everything runs, one line each: printed before a run. */
    public List<String> describe() {
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < spec.nodes(); i++) {
            StringBuilder sb = new StringBuilder("node " + (i + 1) + ": worker-" + (i + 1) + (spec.shareCores()
                    ? " sharing every core with the other nodes (--share-cores: not pinned, speeds are not a cluster's)"
                    : " on core(s) " + cpuList(nodeCores.get(i))));
            if (network != null) {
                sb.append(", namespace ").append(network.namespace(i)).append(" (").append(network.nodeAddress(i)).append(')');
                if (spec.linkDelayMs() > 0) sb.append(String.format(Locale.ROOT, ", delay %.1f ms each way", spec.linkDelayMs()));
                if (spec.linkRateMbit() > 0) sb.append(", ").append(spec.linkRateMbit()).append(" Mbit/s");
            }
            if (relayReason != null) {
                sb.append(String.format(Locale.ROOT, ", delay %.1f ms each way through user-space relays (its Kafka"
                        + " listener %s via %s, and its PostgreSQL connections; no netem here: %s)", spec.linkDelayMs(),
                        routes.get(i).name(), kafkaLinks.get(i).hostPort(), relayReason));
            }
            if (!cgroups.isEmpty()) {
                MemoryCgroup c = cgroups.get(i);
                sb.append(", memory cap ").append(c.limitBytes() >> 20).append(" MiB (").append(c.mechanism()).append(')');
            }
            lines.add(sb.toString());
        }
        lines.add("shared: kafka, postgres, scheduler, submitter on " + (sharedCores.isEmpty()
                ? "every core (none is left over for them: they compete with the nodes)" : "core(s) " + cpuList(sharedCores))
                + (network == null ? ", loopback" : ", bridge " + network.bridge() + " (" + network.hostAddress() + ")"));
        return lines;
    }

    @Override
    public List<String> commandPrefix(String app) {
        int i = workerIndex(app);
        List<String> prefix = new ArrayList<>();
        if (i < 0) {
            if (!sharedCores.isEmpty()) prefix.addAll(List.of("taskset", "-c", cpuList(sharedCores)));
            return prefix;
        }
        if (!cgroups.isEmpty()) prefix.addAll(cgroups.get(i).commandPrefix()); // before netns exec (see there)
        if (network != null) prefix.addAll(network.commandPrefix(i));
        if (!spec.shareCores()) prefix.addAll(List.of("taskset", "-c", cpuList(nodeCores.get(i))));
        return prefix;
    }

    @Override
    public Map<String, String> config(String app) {
        int i = workerIndex(app);
        Map<String, String> config = new LinkedHashMap<>();
        if (i < 0) return config;
        config.put("bunshin.worker.threads", Integer.toString(spec.coresPerNode()));
        // The nodes are alike by construction; a start-up speed probe would only measure who else ran meanwhile
        // (two probes on a busy machine gave 3.9 and 0.7 GFLOPS) and skew the layer split.
        config.put("bunshin.worker.speed", "1");
        if (network != null) {
            config.put("quarkus.http.host", network.nodeAddress(i));
            config.put("bunshin.worker.host", network.nodeAddress(i));
        }
        if (!cgroups.isEmpty()) {
            // What it offers the planner is what the kernel lets it have.
            config.put("bunshin.worker.memory", Long.toString(spec.memoryCapBytes()));
        }
        return config;
    }

    @Override
    public List<LocalKafka.Route> brokerRoutes() {
        return List.copyOf(routes);
    }

    /** A node's Kafka and PostgreSQL connections through its relays, when the delay runs through relays. */
    @Override
    public String route(String app, String service, String hostPort) {
        int i = workerIndex(app);
        if (i < 0 || relayReason == null) return hostPort;
        if (service.equals("kafka")) return kafkaLinks.get(i).hostPort();
        int colon = hostPort.lastIndexOf(':');
        if (colon < 0) throw new IllegalArgumentException("expected host:port for " + service + ", got '" + hostPort + "'");
        return otherLinks.computeIfAbsent(app + " " + service + " " + hostPort, k -> DelayLink.open(
                hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)), spec.linkDelayMs()))
                .hostPort();
    }

    @Override
    public boolean offLoopback(String app) {
        return network != null && workerIndex(app) >= 0;
    }

    @Override
    public String heap(String app, String proposed) {
        if (workerIndex(app) < 0 || cgroups.isEmpty()) return proposed;
        long heap = Math.min(ByteSize.parse(proposed), Math.max(spec.memoryCapBytes() / 2, spec.memoryCapBytes() - NON_HEAP_BYTES));
        return (heap >> 20) + "m";
    }

    @Override
    public void started(String app, List<Long> pids) {
        // Kafka and PostgreSQL start through their own launch code: pin every thread of what already runs;
        // PostgreSQL's backends, forked later by the postmaster, inherit its mask.
        if (sharedCores.isEmpty() || !(app.equals("kafka") || app.equals("postgres"))) return;
        for (long pid : pids) {
            HostCommand.run(List.of("taskset", "-a", "-p", "-c", cpuList(sharedCores), Long.toString(pid)));
        }
    }

    @Override
    public void close() {
        for (DelayLink l : kafkaLinks) l.close();
        kafkaLinks.clear();
        for (DelayLink l : otherLinks.values()) l.close();
        otherLinks.clear();
        for (MemoryCgroup c : cgroups) c.close();
        cgroups.clear();
        if (network != null) {
            network.close();
            network = null;
        }
    }

    /** 0-based index of {@code worker-N}, or -1 for the other apps. */
    static int workerIndex(String app) {
        return app.startsWith("worker-") ? Integer.parseInt(app.substring("worker-".length())) - 1 : -1;
    }

    static String cpuList(List<Integer> cpus) {
        return String.join(",", cpus.stream().map(String::valueOf).toList());
    }

    /** The CPUs this process may run on ({@code Cpus_allowed_list} in /proc/self/status), in order. */
    static List<Integer> allowedCpus() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Cpus_allowed_list:")) return parseCpuList(line.substring(line.indexOf(':') + 1).strip());
            }
        } catch (IOException | RuntimeException ignored) {
            // not Linux
        }
        List<Integer> all = new ArrayList<>();
        for (int c = 0; c < Runtime.getRuntime().availableProcessors(); c++) all.add(c);
        return all;
    }

    /** {@code 0-3,8,10-11} → [0, 1, 2, 3, 8, 10, 11]. */
    static List<Integer> parseCpuList(String text) {
        List<Integer> cpus = new ArrayList<>();
        for (String part : text.split(",")) {
            String p = part.strip();
            if (p.isEmpty()) continue;
            int dash = p.indexOf('-');
            int from = Integer.parseInt(dash < 0 ? p : p.substring(0, dash));
            int to = dash < 0 ? from : Integer.parseInt(p.substring(dash + 1));
            for (int c = from; c <= to; c++) cpus.add(c);
        }
        return cpus;
    }

    /** A process's peak resident set ({@code VmHWM}) in bytes, or -1 when it has exited. */
    public static long peakRssBytes(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException ignored) {
            // gone
        }
        return -1;
    }
}
