package dev.bunshin.launcher;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The simulated hosts of {@code bench cluster}: pinning, namespaces with shaped links, and their teardown. */
class SimulatedHostsTest {

    @Test
    void parsesKernelCpuLists() {
        assertEquals(List.of(0, 1, 2, 3, 8, 10, 11), SimulatedHosts.parseCpuList("0-3,8,10-11"));
        assertEquals(List.of(5), SimulatedHosts.parseCpuList("5"));
    }

    @Test
    void refusesMoreCoresThanThisProcessMayUse() {
        int cpus = SimulatedHosts.allowedCpus().size();
        String why = SimulatedHosts.unavailableReason(new SimulatedHosts.Spec(cpus + 1, 1, 0, 0, 0));
        HostSupport.require("core check", HostCommand.available("taskset") ? null : "no taskset");
        assertNotNull(why);
        assertTrue(why.contains((cpus + 1) + " cores") && why.contains("may use " + cpus), why);
        assertThrows(IllegalStateException.class, () -> SimulatedHosts.create(new SimulatedHosts.Spec(cpus + 1, 1, 0, 0, 0)));
    }

    @Test
    void sharedCoresRunMoreNodesThanCoresUnpinnedAndSaySo() throws Exception {
        HostSupport.require("core check", HostCommand.available("taskset") ? null : "no taskset");
        List<Integer> cpus = SimulatedHosts.allowedCpus();
        SimulatedHosts.Spec spec = new SimulatedHosts.Spec(cpus.size() + 1, 1, 0, 0, 0, true);
        assertNull(SimulatedHosts.unavailableReason(spec), "--share-cores takes more nodes than cores");
        String tooWide = SimulatedHosts.unavailableReason(new SimulatedHosts.Spec(2, cpus.size() + 1, 0, 0, 0, true));
        assertNotNull(tooWide);
        assertTrue(tooWide.contains((cpus.size() + 1) + " cores per node"), tooWide);
        try (SimulatedHosts hosts = SimulatedHosts.create(spec)) {
            Process p = startPlaced(hosts.commandPrefix("worker-" + (cpus.size() + 1)), "sleep", "30");
            try {
                assertEquals(cpus, SimulatedHosts.parseCpuList(allowedList(p.pid())), "an unpinned node may use every core");
            } finally {
                p.destroyForcibly().waitFor();
            }
            assertFalse(hosts.commandPrefix("worker-1").contains("taskset"), hosts.commandPrefix("worker-1").toString());
            assertTrue(hosts.describe().getFirst().contains("--share-cores"), hosts.describe().getFirst());
        }
    }

    @Test
    void aCappedWorkersHeapFitsItsCapAndIsNoLargerThanProposed() {
        HostSupport.require("memory cap", MemoryCgroup.unavailableReason());
        try (SimulatedHosts hosts = SimulatedHosts.create(new SimulatedHosts.Spec(1, 1, 0, 0, 1L << 30, true))) {
            assertEquals("768m", hosts.heap("worker-1", "768m"), "a small heap (llama.cpp's) stays as asked");
            assertEquals(((1L << 30) - SimulatedHosts.NON_HEAP_BYTES >> 20) + "m", hosts.heap("worker-1", "8g"),
                    "a heap as large as the model is cut to the cap less what the JVM needs beside it");
            assertEquals("8g", hosts.heap("scheduler", "8g"), "only workers are capped");
        }
    }

    @Test
    void pinsEachWorkerToItsOwnCores() throws Exception {
        HostSupport.require("pinning", HostCommand.available("taskset") ? null : "`taskset` is not installed");
        List<Integer> cpus = SimulatedHosts.allowedCpus();
        int nodes = Math.min(2, cpus.size());
        try (SimulatedHosts hosts = SimulatedHosts.create(new SimulatedHosts.Spec(nodes, 1, 0, 0, 0))) {
            for (int i = 0; i < nodes; i++) {
                Process p = startPlaced(hosts.commandPrefix("worker-" + (i + 1)), "sleep", "30");
                try {
                    assertEquals(String.valueOf(cpus.get(i)), allowedList(p.pid()), "worker-" + (i + 1) + "'s cores");
                } finally {
                    p.destroyForcibly().waitFor();
                }
            }
            assertEquals("1", hosts.config("worker-1").get("bunshin.worker.threads"));
            assertNull(hosts.bindAddress(), "no namespaces without shaped links");
            // The shared services get what is left, or every core (no prefix) when nothing is left.
            List<String> shared = hosts.commandPrefix("scheduler");
            assertEquals(cpus.size() > nodes, !shared.isEmpty(), shared.toString());
        }
    }

    @Test
    void namespacesJoinedByShapedVethsAreMadeAndRemoved() throws Exception {
        HostSupport.require("network namespaces", NetworkNamespaces.unavailableReason());
        HostSupport.require("link rate", NetworkNamespaces.tbfUnavailableReason());
        HostSupport.require("pinning", HostCommand.available("taskset") ? null : "`taskset` is not installed");
        List<String> namespaces;
        String bridge;
        try (SimulatedHosts hosts = SimulatedHosts.create(new SimulatedHosts.Spec(2, 1, 0, 100, 0))) {
            assertNotNull(hosts.bindAddress());
            namespaces = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                List<String> prefix = hosts.commandPrefix("worker-" + (i + 1));
                assertEquals(List.of("ip", "netns", "exec"), prefix.subList(0, 3), prefix.toString());
                namespaces.add(prefix.get(3));
            }
            String netns = HostCommand.check(List.of("ip", "netns", "list"));
            for (String ns : namespaces) assertTrue(netns.contains(ns), netns);
            bridge = HostCommand.check(List.of("ip", "-o", "link", "show", "type", "bridge"));
            assertTrue(bridge.contains("bsh" + namespaces.get(0).split("-")[1] + "br"), bridge);

            // A server on the bridge address answers a node in its namespace, and the node's link is shaped.
            try (ServerSocket server = new ServerSocket(0, 5, InetAddress.getByName(hosts.bindAddress()))) {
                Process client = startPlaced(hosts.commandPrefix("worker-1"), "bash", "-c",
                        "echo hello > /dev/tcp/" + hosts.bindAddress() + "/" + server.getLocalPort());
                server.setSoTimeout(10_000);
                try (Socket s = server.accept()) {
                    assertEquals("hello", new String(s.getInputStream().readAllBytes()).strip());
                }
                assertTrue(client.waitFor(10, TimeUnit.SECONDS));
                assertEquals(0, client.exitValue());
            }
            String qdisc = HostCommand.check(List.of("ip", "netns", "exec", namespaces.get(0), "tc", "qdisc", "show"));
            assertTrue(qdisc.contains("tbf") && qdisc.contains("100Mbit"), qdisc);
            assertEquals(hosts.config("worker-2").get("quarkus.http.host"),
                    hosts.config("worker-2").get("bunshin.worker.host"));
        }
        String after = HostCommand.check(List.of("ip", "netns", "list"));
        for (String ns : namespaces) assertFalse(after.contains(ns), "namespace " + ns + " left behind: " + after);
        String links = HostCommand.check(List.of("ip", "-o", "link", "show"));
        String tag = namespaces.get(0).split("-")[1];
        assertFalse(links.contains("bsh" + tag), "veth or bridge left behind: " + links);
    }

    @Test
    void linkDelayUsesNetemOrElseRelaysEachNodesConnections() throws Exception {
        HostSupport.require("pinning", HostCommand.available("taskset") ? null : "no taskset");
        String netem = NetworkNamespaces.netemUnavailableReason();
        SimulatedHosts.Spec delayed = new SimulatedHosts.Spec(1, 1, 5, 0, 0);
        assertNull(SimulatedHosts.unavailableReason(delayed), "--link-delay alone is always accepted");
        if (netem == null) {
            System.err.println("note: tc netem works here: the relays are not used (the namespace tests cover netem)");
            return;
        }
        System.err.println("note: tc netem is missing here (" + netem + "): checking the user-space relays");
        String both = SimulatedHosts.unavailableReason(new SimulatedHosts.Spec(1, 1, 5, 100, 0));
        assertNotNull(both);
        assertTrue(both.contains("--link-delay with --link-rate needs `tc netem`"), both);

        try (ServerSocket db = new ServerSocket(0, 4, InetAddress.getLoopbackAddress())) {
            String dbRoute;
            try (SimulatedHosts hosts = SimulatedHosts.create(delayed)) {
                assertTrue(hosts.relayed());
                List<LocalKafka.Route> routes = hosts.brokerRoutes();
                assertEquals(1, routes.size());
                assertEquals("NODE1", routes.getFirst().name());
                String kafka = hosts.route("worker-1", "kafka", "127.0.0.1:9092");
                assertEquals("127.0.0.1:" + routes.getFirst().advertisedPort(), kafka, "the worker bootstraps through its relay");
                dbRoute = hosts.route("worker-1", "postgres", "127.0.0.1:" + db.getLocalPort());
                assertFalse(dbRoute.endsWith(":" + db.getLocalPort()), dbRoute);
                assertEquals(dbRoute, hosts.route("worker-1", "postgres", "127.0.0.1:" + db.getLocalPort()), "one relay per target");
                assertEquals("127.0.0.1:9092", hosts.route("scheduler", "kafka", "127.0.0.1:9092"), "the shared services' own links are not delayed");
                String placement = String.join("\n", hosts.describe());
                assertTrue(placement.contains("delay 5.0 ms each way through user-space relays") && placement.contains("no netem"), placement);

                // The relay reaches the database's port, 5 ms each way.
                int port = Integer.parseInt(dbRoute.substring(dbRoute.lastIndexOf(':') + 1));
                try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port); Socket server = db.accept()) {
                    long t0 = System.nanoTime();
                    s.getOutputStream().write(1);
                    assertEquals(1, server.getInputStream().read());
                    assertTrue(System.nanoTime() - t0 >= 5_000_000L, "one way took less than the delay");
                }
            }
            // Closed with the hosts: nothing listens there any more.
            int port = Integer.parseInt(dbRoute.substring(dbRoute.lastIndexOf(':') + 1));
            assertThrows(IOException.class, () -> new Socket(InetAddress.getLoopbackAddress(), port).close());
        }
    }

    @Test
    void peakRssIsReadFromProc() {
        long peak = SimulatedHosts.peakRssBytes(ProcessHandle.current().pid());
        HostSupport.require("VmHWM", Files.exists(Path.of("/proc/self/status")) ? null : "no /proc");
        assertTrue(peak > 1 << 20, "VmHWM of this JVM: " + peak);
        assertEquals(-1, SimulatedHosts.peakRssBytes(Long.MAX_VALUE - 1));
    }

    static Process startPlaced(List<String> prefix, String... command) throws IOException {
        List<String> cmd = new ArrayList<>(prefix);
        cmd.addAll(List.of(command));
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    }

    /** Cpus_allowed_list of a process, waiting for taskset to have exec'd into the command. */
    static String allowedList(long pid) throws Exception {
        String last = "";
        for (int i = 0; i < 50; i++) {
            String comm = Files.readString(Path.of("/proc", Long.toString(pid), "comm")).strip();
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("Cpus_allowed_list:")) last = line.substring(line.indexOf(':') + 1).strip();
            }
            if (comm.equals("sleep")) return last;
            Thread.sleep(50);
        }
        return last;
    }
}
