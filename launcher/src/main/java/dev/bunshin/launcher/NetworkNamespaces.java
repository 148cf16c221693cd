package dev.bunshin.launcher;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One network namespace per simulated node, each joined to a bridge in this (the host's) namespace by a veth
 * pair, with an optional link delay ({@code tc netem}) and rate ({@code tc tbf}) on both ends of each veth.
 * The host side of the bridge is {@code 10.213.<k>.1}; node i is {@code 10.213.<k>.(i + 2)}. Servers that the
 * nodes reach (Kafka, PostgreSQL) listen on the bridge address.
 *
 * <p>{@link #close()} deletes the namespaces (which deletes their veths) and the bridge; it is safe to call twice
 * and runs from a shutdown hook too, so Ctrl-C leaves nothing behind.
 */
public final class NetworkNamespaces implements AutoCloseable {

    private final String tag;
    private final int subnet;
    private final List<String> namespaces = new ArrayList<>();
    /** The veths' host ends: deleted first, since deleting a namespace removes its veths only asynchronously. */
    private final List<String> hostEnds = new ArrayList<>();
    private boolean bridgeUp;

    private NetworkNamespaces(String tag, int subnet) {
        this.tag = tag;
        this.subnet = subnet;
    }

    /** Null when namespaces with veths can be made here, else what is missing. */
    public static String unavailableReason() {
        if (!HostCommand.isRoot()) {
            return "network namespaces need root";
        }
        if (!HostCommand.available("ip")) {
            return "the `ip` tool (iproute2) is not installed";
        }
        return null;
    }

    /**
     * Null when {@code tc qdisc ... netem} works here (probed on a throw-away veth), else what is missing. netem
     * is a kernel module ({@code CONFIG_NET_SCH_NETEM}); some VM kernels leave it out.
     */
    public static String netemUnavailableReason() {
        return qdiscUnavailableReason("netem", List.of("delay", "1ms"), "CONFIG_NET_SCH_NETEM");
    }

    /** As {@link #netemUnavailableReason()}, for the token-bucket filter {@code tbf} that --link-rate uses. */
    public static String tbfUnavailableReason() {
        return qdiscUnavailableReason("tbf", List.of("rate", "100mbit", "burst", "64kb", "latency", "50ms"),
                "CONFIG_NET_SCH_TBF");
    }

    private static String qdiscUnavailableReason(String kind, List<String> args, String kernelOption) {
        String base = unavailableReason();
        if (base != null) {
            return base;
        }
        if (!HostCommand.available("tc")) {
            return "the `tc` tool (iproute2) is not installed";
        }
        String probe = "bshprobe" + (ProcessHandle.current().pid() % 10000);
        HostCommand.Result made = HostCommand.run(List.of("ip", "link", "add", probe + "a", "type", "veth", "peer", "name", probe + "b"));
        if (!made.ok()) {
            return "cannot make a veth pair: " + made.output();
        }
        try {
            List<String> add = new ArrayList<>(List.of("tc", "qdisc", "add", "dev", probe + "a", "root", kind));
            add.addAll(args);
            HostCommand.Result r = HostCommand.run(add);
            return r.ok() ? null : "the kernel has no `" + kind + "` queueing discipline (" + kernelOption
                    + " is not set; `tc` says: " + r.output() + ")";
        } finally {
            HostCommand.run(List.of("ip", "link", "del", probe + "a"));
        }
    }

    /**
     * Makes the bridge and {@code nodes} namespaces. {@code delayMs} (one way, per direction) and {@code rateMbit}
     * shape each node's link; 0 leaves it unshaped.
     */
    public static NetworkNamespaces create(int nodes, double delayMs, int rateMbit) {
        String missing = unavailableReason();
        if (missing != null) {
            throw new IllegalStateException("cannot make network namespaces: " + missing);
        }
        String tag = Long.toHexString(ProcessHandle.current().pid() & 0xffff);
        NetworkNamespaces n = new NetworkNamespaces(tag, freeSubnet());
        ShutdownCleanup.register(n);
        try {
            n.setUp(nodes, delayMs, rateMbit);
            return n;
        } catch (RuntimeException e) {
            n.close();
            throw e;
        }
    }

    /** The host's address on the bridge: what servers bind to so that every node reaches them. */
    public String hostAddress() {
        return "10.213." + subnet + ".1";
    }

    /** Node {@code i}'s (0-based) address inside its namespace. */
    public String nodeAddress(int i) {
        return "10.213." + subnet + "." + (i + 2);
    }

    /** Node {@code i}'s namespace name. */
    public String namespace(int i) {
        return namespaces.get(i);
    }

    public List<String> namespaces() {
        return List.copyOf(namespaces);
    }

    /** The bridge's interface name. */
    public String bridge() {
        return "bsh" + tag + "br";
    }

    /** {@code ip netns exec NS}: runs the rest of a command inside node {@code i}'s namespace. */
    public List<String> commandPrefix(int i) {
        return List.of("ip", "netns", "exec", namespace(i));
    }

    private void setUp(int nodes, double delayMs, int rateMbit) {
        HostCommand.check(List.of("ip", "link", "add", bridge(), "type", "bridge"));
        bridgeUp = true;
        HostCommand.check(List.of("ip", "addr", "add", hostAddress() + "/24", "dev", bridge()));
        HostCommand.check(List.of("ip", "link", "set", bridge(), "up"));
        for (int i = 0; i < nodes; i++) {
            String ns = "bunshin-" + tag + "-" + (i + 1);
            String hostEnd = "bsh" + tag + "h" + (i + 1);
            String nodeEnd = "bsh" + tag + "n" + (i + 1);
            HostCommand.check(List.of("ip", "netns", "add", ns));
            namespaces.add(ns);
            HostCommand.check(List.of("ip", "link", "add", hostEnd, "type", "veth", "peer", "name", nodeEnd));
            hostEnds.add(hostEnd);
            HostCommand.check(List.of("ip", "link", "set", nodeEnd, "netns", ns));
            HostCommand.check(List.of("ip", "link", "set", hostEnd, "master", bridge()));
            HostCommand.check(List.of("ip", "link", "set", hostEnd, "up"));
            HostCommand.check(List.of("ip", "-n", ns, "link", "set", "lo", "up"));
            HostCommand.check(List.of("ip", "-n", ns, "addr", "add", nodeAddress(i) + "/24", "dev", nodeEnd));
            HostCommand.check(List.of("ip", "-n", ns, "link", "set", nodeEnd, "up"));
            // Both directions: what leaves the host toward the node, and what leaves the node.
            shape(List.of(), hostEnd, delayMs, rateMbit);
            shape(List.of("ip", "netns", "exec", ns), nodeEnd, delayMs, rateMbit);
        }
    }

    private static void shape(List<String> in, String dev, double delayMs, int rateMbit) {
        if (delayMs <= 0 && rateMbit <= 0) {
            return;
        }
        List<String> cmd = new ArrayList<>(in);
        cmd.addAll(List.of("tc", "qdisc", "add", "dev", dev, "root"));
        if (delayMs > 0) {
            cmd.addAll(List.of("netem", "delay", String.format(Locale.ROOT, "%.3fms", delayMs)));
            if (rateMbit > 0) {
                cmd.addAll(List.of("rate", rateMbit + "mbit"));
            }
            // netem's default queue (1000 packets) drops bursts of large activation records at low rates
            cmd.addAll(List.of("limit", "100000"));
        } else {
            // tbf: a bucket of 1 ms at the rate (at least 64 KiB), packets may wait up to 1 s
            long burst = Math.max(64 * 1024, rateMbit * 1_000_000L / 8 / 1000);
            cmd.addAll(List.of("tbf", "rate", rateMbit + "mbit", "burst", Long.toString(burst), "latency", "1000ms"));
        }
        HostCommand.check(cmd);
    }

    /** A /24 in 10.213.0.0/16 that no interface here uses yet. */
    private static int freeSubnet() {
        String addrs = HostCommand.run(List.of("ip", "-o", "-4", "addr", "show")).output();
        for (int k = 0; k < 256; k++) {
            if (!addrs.contains("10.213." + k + ".")) {
                return k;
            }
        }
        throw new IllegalStateException("every 10.213.k.0/24 is in use on this machine");
    }

    @Override
    public synchronized void close() {
        for (String veth : hostEnds) {
            // Deleting one end of a veth deletes both, at once.
            HostCommand.Result r = HostCommand.run(List.of("ip", "link", "del", veth));
            if (!r.ok()) {
                System.err.println("bunshin: cannot delete veth " + veth + ": " + r.output());
            }
        }
        hostEnds.clear();
        for (String ns : namespaces) {
            HostCommand.Result r = HostCommand.run(List.of("ip", "netns", "del", ns));
            if (!r.ok()) {
                System.err.println("bunshin: cannot delete network namespace " + ns + ": " + r.output());
            }
        }
        namespaces.clear();
        if (bridgeUp) {
            HostCommand.Result r = HostCommand.run(List.of("ip", "link", "del", bridge()));
            if (!r.ok()) {
                System.err.println("bunshin: cannot delete bridge " + bridge() + ": " + r.output());
            }
            bridgeUp = false;
        }
        ShutdownCleanup.unregister(this);
    }
}
