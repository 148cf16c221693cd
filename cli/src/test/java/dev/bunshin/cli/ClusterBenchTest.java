package dev.bunshin.cli;

import dev.bunshin.engine.TestModels;
import dev.bunshin.launcher.NetworkNamespaces;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code bench cluster}'s refusals and pieces; the whole run is e2e's ClusterBenchIT. */
class ClusterBenchTest {

    @Test
    void refusesLinkDelayWithLinkRateWhenNetemIsMissingAndSaysWhatIsMissing() {
        String netem = NetworkNamespaces.netemUnavailableReason();
        if (netem == null) {
            String msg = "SKIPPED (loudly): tc netem works on this machine, so --link-delay is not refused";
            System.err.println("\n*** " + msg + " ***\n");
            Assumptions.abort(msg);
        }
        // --link-delay alone runs through user-space relays (SimulatedHostsTest); a rate as well needs netem.
        Cli r = Cli.run("bench", "cluster", TestModels.stories260K().toString(), "--nodes", "1", "--cores-per-node", "1",
                "--link-delay", "5", "--link-rate", "100");
        assertEquals(2, r.status(), r.toString());
        assertTrue(r.err().contains("--link-delay with --link-rate needs `tc netem`"), r.err());
        assertTrue(r.err().contains(netem), r.err());
    }

    @Test
    void refusesMoreCoresThanThisMachineHas() {
        Cli r = Cli.run("bench", "cluster", TestModels.stories260K().toString(), "--nodes", "64", "--cores-per-node", "64");
        assertEquals(2, r.status(), r.toString());
        assertTrue(r.err().contains("4096 cores") || r.err().contains("taskset"), r.err());
    }

    @Test
    void theBaselineRunsTheClustersBackendAndOnlyAKnownOne() {
        assertEquals(new SingleNodeBaseline.OneProcess("llama.cpp"), SingleNodeBaseline.forBackend("llama.cpp"));
        assertEquals(new SingleNodeBaseline.OneProcess("java"), SingleNodeBaseline.forBackend("java"));
        UsageException bad = assertThrows(UsageException.class, () -> SingleNodeBaseline.forBackend("cuda"));
        assertTrue(bad.getMessage().contains("--backend: expected java or llama.cpp, got \"cuda\""), bad.getMessage());
    }

    @Test
    void memoryCapIsAFractionOfTheModelOrASize() {
        assertEquals(400, ClusterBench.memoryCap("0.4", 1000));
        assertEquals(600L << 20, ClusterBench.memoryCap("600M", 1000));
        assertEquals(0, ClusterBench.memoryCap(null, 1000));
        UsageException e = assertThrows(UsageException.class, () -> ClusterBench.memoryCap("lots", 1000));
        assertTrue(e.getMessage().contains("--memory-cap") && e.getMessage().contains("\"lots\""), e.getMessage());
    }

    @Test
    void percentilesAreNearestRank() {
        List<Double> xs = List.of(5.0, 1.0, 4.0, 2.0, 3.0);
        assertEquals(3.0, ClusterBench.percentile(xs, 50));
        assertEquals(5.0, ClusterBench.percentile(xs, 95));
        assertEquals(1.0, ClusterBench.percentile(xs, 1));
        assertTrue(Double.isNaN(ClusterBench.percentile(List.of(), 50)));
    }

    @Test
    void plotIsOneSelfContainedSvgWithBothSetups() throws Exception {
        List<ClusterBench.Row> single = List.of(new ClusterBench.Row("single node", 1, 1, 64, 4, 16, 16, 100, 100),
                new ClusterBench.Row("single node", 1, 32, 2048, 80, 25.6, 0.8, 900, 1800));
        List<ClusterBench.Row> cluster = List.of(new ClusterBench.Row("cluster", 2, 1, 64, 8, 8, 8, 150, 150),
                new ClusterBench.Row("cluster", 2, 32, 2048, 50, 40.9, 1.3, 1200, 2600));
        String svg = ClusterPlot.svg("a <title> & more", single, cluster);
        javax.xml.parsers.DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(new java.io.ByteArrayInputStream(svg.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        assertTrue(svg.contains(">1 node<") && svg.contains(">2 nodes<"), svg);
        assertTrue(svg.contains(">40.9<") && svg.contains(">25.6<"), svg);
        assertTrue(svg.contains("a &lt;title&gt; &amp; more"), svg);
        assertTrue(!svg.contains("href") && !svg.contains("<script"), "no external assets: " + svg);
    }

    @Test
    void theSingleNodeBaselineRunsPinnedAndTimesEveryJobsFirstToken() throws Exception {
        SingleNodeBaseline.Result r = new SingleNodeBaseline.OneProcess("java").measure(TestModels.stories260K(), List.of(0), 4,
                new int[] {1, 3}, System.err);
        assertEquals(2, r.rounds().size());
        SingleNodeBaseline.Round three = r.rounds().get(1);
        assertEquals(3, three.jobs());
        assertEquals(12, three.tokens());
        assertEquals(3, three.ttftMs().size());
        // Prompts are prefilled in turn: each job's first token comes after the previous one's.
        assertTrue(three.ttftMs().get(0) <= three.ttftMs().get(1) && three.ttftMs().get(1) <= three.ttftMs().get(2),
                three.ttftMs().toString());
        assertTrue(three.seconds() * 1000 >= three.ttftMs().get(2), three.toString());
        assertTrue(r.peakRssBytes() > 1 << 20, "peak RSS " + r.peakRssBytes());
    }
}
