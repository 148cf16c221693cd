package dev.bunshin.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bunshin.cli.Main;
import dev.bunshin.engine.TestModels;
import dev.bunshin.launcher.MemoryCgroup;
import dev.bunshin.launcher.NetworkNamespaces;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code ./bunshin bench cluster} end to end on the packaged apps: two simulated hosts, each worker pinned to its
 * own core, in its own network namespace behind a rate-limited veth (where this machine allows it) and under a
 * memory cgroup (where it allows that); the single-node baseline beside it; every namespace, veth and cgroup
 * gone afterwards. What this machine cannot do is named on stderr (loudly) and left out of the run.
 */
class ClusterBenchIT {

    private static final long CAP = 1L << 30;

    @Test
    void runsPinnedNamespacedCappedWorkersBesideTheSingleNodeAndCleansUp() throws Exception {
        List<String> args = new ArrayList<>(List.of("bench", "cluster", TestModels.stories260K().toString(), "--nodes", "2",
                "--cores-per-node", "1", "--jobs", "1,3", "--tokens", "6", "--json", "--trace",
                "--plot", Path.of("target/cluster-bench-it.svg").toAbsolutePath().toString()));
        String links = NetworkNamespaces.tbfUnavailableReason();
        if (links == null) {
            args.addAll(List.of("--link-rate", "1000"));
        } else {
            System.err.println("\n*** SKIPPED (loudly) part: workers in network namespaces: " + links + " ***\n");
        }
        String cgroups = MemoryCgroup.unavailableReason();
        if (cgroups == null) {
            args.addAll(List.of("--memory-cap", "1G"));
        } else {
            System.err.println("\n*** SKIPPED (loudly) part: the memory-capped run: " + cgroups + " ***\n");
        }
        String netnsBefore = run("ip", "netns", "list");

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(args.toArray(String[]::new), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        String log = err.toString(StandardCharsets.UTF_8);
        assertEquals(0, status, out + "\n" + log);

        JsonNode r = new ObjectMapper().readTree(out.toString(StandardCharsets.UTF_8));
        for (String ratio : List.of("aggregate_ratio", "single_stream_ratio", "ttft_ratio")) {
            assertTrue(r.get(ratio).asDouble() > 0, ratio + " in " + r);
        }
        assertEquals(4, r.get("rows").size(), r.toString());
        for (JsonNode row : r.get("rows")) {
            assertTrue(row.get("aggregate_tok_s").asDouble() > 0 && row.get("ttft_p50_ms").asDouble() > 0, row.toString());
            assertTrue(row.get("ttft_p95_ms").asDouble() >= row.get("ttft_p50_ms").asDouble(), row.toString());
        }
        assertEquals(2, r.get("workers").size(), r.toString());
        for (JsonNode w : r.get("workers")) {
            assertTrue(w.get("peak_rss_bytes").asLong() > 32L << 20, "a worker JVM's VmHWM: " + w);
            if (cgroups == null) {
                long peak = w.get("cgroup_peak_bytes").asLong();
                assertTrue(peak > 0 && peak <= CAP, "cgroup peak within the cap: " + w);
                assertEquals(0, w.get("oom_kills").asLong(), w.toString());
            }
        }
        String placement = r.get("placement").toString();
        assertTrue(placement.contains("worker-1 on core(s)") && placement.contains("shared: kafka"), placement);
        if (links == null) assertTrue(placement.contains("namespace bunshin-") && placement.contains("1000 Mbit/s"), placement);
        assertEquals(2, r.get("trace").size(), r.toString());
        assertTrue(r.get("trace").get(0).get("decode_steps").asInt() >= 4, r.get("trace").toString());
        assertTrue(Files.readString(Path.of("target/cluster-bench-it.svg")).startsWith("<svg"));

        // Nothing left behind: namespaces, veths and the bridge, cgroups.
        assertEquals(netnsBefore, run("ip", "netns", "list"));
        String tag = Long.toHexString(ProcessHandle.current().pid() & 0xffff);
        assertFalse(run("ip", "-o", "link", "show").contains("bsh" + tag), "a veth or bridge of this run is left");
        try (var dirs = Files.walk(Path.of("/sys/fs/cgroup"), 4)) {
            String cgTag = "bunshin-" + Long.toHexString(ProcessHandle.current().pid()) + "-worker";
            assertFalse(dirs.anyMatch(d -> d.getFileName() != null && d.getFileName().toString().startsWith(cgTag)),
                    "a memory cgroup of this run is left");
        } catch (IOException e) {
            // no cgroup fs: nothing to leave
        }
    }

    private static String run(String... command) throws Exception {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String s = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            p.waitFor(30, TimeUnit.SECONDS);
            return s;
        } catch (IOException e) {
            return "(" + command[0] + " not available)";
        }
    }
}
