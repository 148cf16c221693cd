package dev.bunshin.models.plan;

import dev.bunshin.engine.LayerRange;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

class StagePlannerTest {

    private static final long MB = 1L << 20;

    private static List<Long> uniform(int n, long bytes) {
        return new ArrayList<>(Collections.nCopies(n, bytes));
    }

    private static List<NodeCapacity> nodes(long... memory) {
        List<NodeCapacity> out = new ArrayList<>();
        for (int i = 0; i < memory.length; i++) out.add(new NodeCapacity("n" + i, memory[i], 1));
        return out;
    }

    @Test
    void aNodeSoSlowItsOneLayerWouldPaceThePipelineIsLeftOutAndSaysWhy() {
        List<NodeCapacity> ns = List.of(new NodeCapacity("desktop-1", 4096 * MB, 10),
                new NodeCapacity("laptop", 4096 * MB, 0.1), new NodeCapacity("desktop-2", 4096 * MB, 10));
        StagePlanner.Choice c = StagePlanner.planLeavingOutSlowNodes(uniform(22, 40 * MB), 60 * MB, 60 * MB, MB, ns);
        assertEquals(List.of("desktop-1", "desktop-2"), c.stages().stream().map(StageAssignment::nodeName).toList());
        assertEquals(List.of(0, 2), c.stages().stream().map(StageAssignment::node).toList(), "indexes into the caller's list");
        checkCovers(c.stages(), 22);
        assertEquals(1, c.leftOut().size(), c.leftOut().toString());
        assertTrue(c.leftOut().getFirst().startsWith("laptop (speed 0.100) left out") && c.leftOut().getFirst()
                .contains("slowest stage"), c.leftOut().getFirst());
        // Its one layer would have taken 40 MB / 0.1 against ~12 layers / 10 for the desktops: 8x slower.
        List<StageAssignment> all = StagePlanner.plan(uniform(22, 40 * MB), 60 * MB, 60 * MB, MB, ns);
        assertTrue(StagePlanner.slowestStage(all, ns, 60 * MB)
                > 5 * StagePlanner.slowestStage(c.stages(), ns, 60 * MB), "the plan without it is faster");

        // A node a little slower than the others is worth its share: nobody is left out.
        List<NodeCapacity> close = List.of(new NodeCapacity("a", 4096 * MB, 10), new NodeCapacity("b", 4096 * MB, 8));
        StagePlanner.Choice kept = StagePlanner.planLeavingOutSlowNodes(uniform(22, 40 * MB), 60 * MB, 60 * MB, MB, close);
        assertEquals(2, kept.stages().size());
        assertTrue(kept.leftOut().isEmpty(), kept.leftOut().toString());

        // A slow node the others cannot do without (memory) stays.
        List<NodeCapacity> needed = List.of(new NodeCapacity("big", 600 * MB, 10), new NodeCapacity("slow", 600 * MB, 0.1));
        StagePlanner.Choice stays = StagePlanner.planLeavingOutSlowNodes(uniform(22, 40 * MB), 60 * MB, 60 * MB, MB, needed);
        assertEquals(List.of("big", "slow"), stays.stages().stream().map(StageAssignment::nodeName).toList());
        assertTrue(stays.leftOut().isEmpty());
    }

    @Test
    void equalNodesGetEqualWorkAndTheHeadCountsAsLayers() {
        // The 60 MB head is worth 1.5 layers of 40 MB: 23.5 layers of work, 11.75 each → 12 | 10 + head.
        List<StageAssignment> plan = StagePlanner.plan(uniform(22, 40 * MB), 60 * MB, 60 * MB, MB, nodes(
                4096 * MB, 4096 * MB));
        assertEquals(List.of(new LayerRange(0, 12), new LayerRange(12, 22)),
                plan.stream().map(StageAssignment::range).toList());
        assertEquals(12 * 40 * MB + 60 * MB, plan.get(0).weightBytes());
        assertEquals(12 * MB, plan.get(0).kvBytes());
        assertEquals(10 * 40 * MB + 60 * MB, plan.get(1).weightBytes());
        // Without a head (its bytes elsewhere) the layers split evenly.
        assertEquals(List.of(new LayerRange(0, 11), new LayerRange(11, 22)), StagePlanner.plan(uniform(22, 40 * MB),
                60 * MB, 0, MB, nodes(4096 * MB, 4096 * MB)).stream().map(StageAssignment::range).toList());
    }

    @Test
    void layersFollowMemoryTimesSpeed() {
        // 8G, 8G, 16G with equal speed → 1 : 1 : 2
        List<StageAssignment> plan = StagePlanner.plan(uniform(24, MB), 0, 0, 0,
                nodes(8192 * MB, 8192 * MB, 16384 * MB));
        assertEquals(List.of(6, 6, 12), plan.stream().map(a -> a.range().size()).toList());
        // equal memory, speeds 1, 1, 2 → 1 : 1 : 2
        List<NodeCapacity> fast = List.of(new NodeCapacity("a", 8192 * MB, 1), new NodeCapacity("b", 8192 * MB, 1),
                new NodeCapacity("c", 8192 * MB, 2));
        assertEquals(List.of(6, 6, 12), StagePlanner.plan(uniform(24, MB), 0, 0, 0, fast).stream()
                .map(a -> a.range().size()).toList());
    }

    @Test
    void smallNodeGetsOnlyWhatFits() {
        // Ideal would be 10/10, but node 0 holds only 3 layers (plus the embedding).
        List<StageAssignment> plan = StagePlanner.plan(uniform(20, 100 * MB), 50 * MB, 50 * MB, 0,
                List.of(NodeCapacity.unbounded("a", 1), new NodeCapacity("b", 360 * MB, 1)));
        // node b is last: 50 MB head + 3 × 100 MB = 350 MB ≤ 360 MB
        assertEquals(List.of(new LayerRange(0, 17), new LayerRange(17, 20)),
                plan.stream().map(StageAssignment::range).toList());
    }

    @Test
    void speedWeightingTreatsMemoryAsALimitOnly() {
        List<NodeCapacity> ns = List.of(new NodeCapacity("a", 8192 * MB, 1), new NodeCapacity("b", 16384 * MB, 1),
                new NodeCapacity("c", 8192 * MB, 2));
        List<StageAssignment> plan = StagePlanner.plan(uniform(24, MB), 0, 0, 0, ns, StagePlanner.Weighting.SPEED, true);
        assertEquals(List.of(6, 6, 12), plan.stream().map(a -> a.range().size()).toList());
    }

    @Test
    void nodesMayBeLeftOutWhenAllowed() {
        // Node b cannot hold one 100 MB layer: required, it makes the plan impossible; allowed, it is skipped.
        List<NodeCapacity> ns = nodes(1000 * MB, 50 * MB, 1000 * MB);
        assertThrows(PlanException.class, () -> StagePlanner.plan(uniform(6, 100 * MB), 0, 0, 0, ns));
        List<StageAssignment> plan = StagePlanner.plan(uniform(6, 100 * MB), 0, 0, 0, ns,
                StagePlanner.Weighting.SPEED, false);
        assertEquals(List.of(0, 2), plan.stream().map(StageAssignment::node).toList());
        assertEquals(List.of(new LayerRange(0, 3), new LayerRange(3, 6)), plan.stream().map(StageAssignment::range).toList());
    }

    @Test
    void reportsTotalShortfall() {
        PlanException e = assertThrows(PlanException.class, () -> StagePlanner.plan(uniform(10, 100 * MB), 0, 0,
                10 * MB, nodes(500 * MB, 500 * MB)));
        // needs 1000 MB weights + 100 MB KV = 1100 MB, has 1000 MB
        assertTrue(e.getMessage().contains("short by 100 MiB (" + 100 * MB + " bytes)"), e.getMessage());
        assertTrue(e.getMessage().contains("KV cache 100 MiB"), e.getMessage());
    }

    @Test
    void refusesWorkersCappedBelowTheModelNamingTheShortfallInBytes() {
        // A model of 22 layers x 30 MB + 70 MB embedding + 70 MB head = 800 MB on 3 workers capped at 30 % of it:
        // 3 x 240 MB = 720 MB, short by exactly 80 MB. The plan is refused, never started and killed by the OS.
        long model = 22 * 30 * MB + 140 * MB;
        long cap = model * 30 / 100;
        PlanException e = assertThrows(PlanException.class, () -> StagePlanner.plan(uniform(22, 30 * MB), 70 * MB,
                70 * MB, 0, nodes(cap, cap, cap)));
        assertTrue(e.getMessage().contains("short by 80.0 MiB (" + (model - 3 * cap) + " bytes)"), e.getMessage());
    }

    @Test
    void reportsContiguityShortfall() {
        // 3 layers of 100 MB on 150 + 150 + 150 MB with 2 nodes: total 300 ≤ 300 but no node holds 2 layers.
        PlanException e = assertThrows(PlanException.class, () -> StagePlanner.plan(uniform(3, 100 * MB), 0, 0, 0,
                nodes(150 * MB, 150 * MB)));
        assertTrue(e.getMessage().contains("not in contiguous ranges"), e.getMessage());
        assertTrue(e.getMessage().contains("left over"), e.getMessage());
    }

    @Test
    void moreNodesThanLayersLeavesSomeOut() {
        List<StageAssignment> plan = StagePlanner.plan(uniform(2, MB), 0, 0, 0, nodes(MB * 10, MB * 10, MB * 10));
        assertEquals(2, plan.size());
        checkCovers(plan, 2);
    }

    @Test
    void rejectsBadInput() {
        assertThrows(IllegalArgumentException.class, () -> StagePlanner.plan(List.of(), 0, 0, 0, nodes(MB)));
        assertThrows(IllegalArgumentException.class, () -> StagePlanner.plan(uniform(2, MB), 0, 0, 0, List.of()));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new NodeCapacity("w1", 0, 1));
        assertTrue(e.getMessage().contains("w1"), e.getMessage());
    }

    /** Property checks over random inputs, against a brute-force search for small ones. */
    @Test
    void randomPlansCoverFitAndAreOptimal() {
        Random rnd = new Random(42);
        int feasible = 0;
        for (int iter = 0; iter < 3000; iter++) {
            int nLayers = 1 + rnd.nextInt(9);
            int nNodes = 1 + rnd.nextInt(4);
            List<Long> layers = new ArrayList<>();
            for (int i = 0; i < nLayers; i++) layers.add((long) (1 + rnd.nextInt(100)));
            long first = rnd.nextInt(50), last = rnd.nextInt(50), kv = rnd.nextInt(10);
            List<NodeCapacity> ns = new ArrayList<>();
            for (int i = 0; i < nNodes; i++) {
                ns.add(rnd.nextInt(5) == 0 ? NodeCapacity.unbounded("u" + i, 1 + rnd.nextInt(3))
                        : new NodeCapacity("n" + i, 20 + rnd.nextInt(400), 1 + rnd.nextInt(3)));
            }
            StagePlanner.Weighting weighting = rnd.nextBoolean() ? StagePlanner.Weighting.SPEED
                    : StagePlanner.Weighting.SPEED_TIMES_MEMORY;
            boolean everyNode = rnd.nextInt(3) != 0;
            double best = bruteForceBest(layers, first, last, kv, ns, weighting, everyNode);
            List<StageAssignment> plan;
            try {
                plan = StagePlanner.plan(layers, first, last, kv, ns, weighting, everyNode);
            } catch (PlanException e) {
                assertEquals(Double.POSITIVE_INFINITY, best, "planner failed where a split exists: " + e.getMessage());
                continue;
            }
            feasible++;
            checkCovers(plan, nLayers);
            if (everyNode && nNodes <= nLayers) assertEquals(nNodes, plan.size(), "every node gets a layer");
            double head = headWork(layers, last);
            double[] ideal = StagePlanner.idealLayers(nLayers + head, ns, weighting);
            double cost = 0;
            int[] counts = new int[nNodes];
            double[] work = new double[nNodes];
            for (StageAssignment a : plan) {
                assertTrue(a.totalBytes() <= a.memoryBytes(), "stage over memory: " + a);
                long expected = 0;
                for (int il = a.range().start(); il < a.range().end(); il++) expected += layers.get(il) + kv;
                if (a.range().isFirst()) expected += first;
                if (a.range().isLast(nLayers)) expected += last;
                assertEquals(expected, a.totalBytes());
                counts[a.node()] = a.range().size();
                work[a.node()] = a.range().size() + (a.range().isLast(nLayers) ? head : 0);
            }
            for (int i = 0; i < nNodes; i++) cost += (work[i] - ideal[i]) * (work[i] - ideal[i]);
            assertEquals(best, cost, 1e-9, "not the most proportional split");
        }
        assertTrue(feasible > 500, "too few feasible random cases to mean anything: " + feasible);
    }

    /** Unbounded memory: each node within one layer of its ideal share, and more weight never means fewer layers. */
    @Test
    void unboundedPlansAreProportional() {
        Random rnd = new Random(7);
        for (int iter = 0; iter < 2000; iter++) {
            int nNodes = 1 + rnd.nextInt(8);
            int nLayers = nNodes * (1 + rnd.nextInt(10)) + rnd.nextInt(5);
            List<NodeCapacity> ns = new ArrayList<>();
            for (int i = 0; i < nNodes; i++) ns.add(NodeCapacity.unbounded("n" + i, 0.5 + rnd.nextInt(4)));
            double[] ideal = StagePlanner.idealLayers(nLayers, ns, StagePlanner.Weighting.SPEED_TIMES_MEMORY);
            boolean allAtLeastOne = true;
            for (double d : ideal) allAtLeastOne &= d >= 1;
            List<StageAssignment> plan = StagePlanner.plan(uniform(nLayers, 10), 5, 0, 1, ns); // no head: layers alone
            checkCovers(plan, nLayers);
            for (StageAssignment a : plan) {
                if (allAtLeastOne) {
                    assertTrue(Math.abs(a.range().size() - ideal[a.node()]) < 1.0, "stage " + a + " vs ideal "
                            + ideal[a.node()]);
                }
                for (StageAssignment b : plan) {
                    if (ns.get(a.node()).speed() > ns.get(b.node()).speed()) {
                        assertTrue(a.range().size() >= b.range().size(), a + " slower than " + b);
                    }
                }
            }
        }
    }

    private static void checkCovers(List<StageAssignment> plan, int nLayers) {
        int next = 0;
        int lastNode = -1;
        for (StageAssignment a : plan) {
            assertEquals(next, a.range().start(), "ranges must be contiguous: " + plan);
            assertTrue(a.node() > lastNode, "stages must follow node order: " + plan);
            lastNode = a.node();
            next = a.range().end();
        }
        assertEquals(nLayers, next, "ranges must cover all layers: " + plan);
    }

    /** Least squared deviation over every contiguous split that fits; +∞ if none does. */
    private static double bruteForceBest(List<Long> layers, long first, long last, long kv, List<NodeCapacity> ns,
                                         StagePlanner.Weighting weighting, boolean everyNode) {
        int nLayers = layers.size();
        int nNodes = ns.size();
        double[] ideal = StagePlanner.idealLayers(nLayers + headWork(layers, last), ns, weighting);
        double[] best = {Double.POSITIVE_INFINITY};
        search(0, 0, 0.0, layers, first, last, kv, ns, ideal, !everyNode || nNodes > nLayers, best);
        return best[0];
    }

    private static void search(int node, int start, double cost, List<Long> layers, long first, long last, long kv,
                               List<NodeCapacity> ns, double[] ideal, boolean zeroAllowed, double[] best) {
        int nLayers = layers.size();
        if (node == ns.size()) {
            if (start == nLayers && cost < best[0]) best[0] = cost;
            return;
        }
        for (int end = start; end <= nLayers; end++) {
            int count = end - start;
            if (count == 0 && !zeroAllowed) continue;
            if (count > 0) {
                long bytes = 0;
                for (int il = start; il < end; il++) bytes += layers.get(il) + kv;
                if (start == 0) bytes += first;
                if (end == nLayers) bytes += last;
                if (bytes > ns.get(node).memoryBytes()) continue;
            }
            double d = count + (end == nLayers && count > 0 ? headWork(layers, last) : 0) - ideal[node];
            search(node + 1, end, cost + d * d, layers, first, last, kv, ns, ideal, zeroAllowed, best);
        }
    }

    /** The head's work in layers: its bytes ÷ the mean layer's. */
    private static double headWork(List<Long> layers, long last) {
        long total = layers.stream().mapToLong(Long::longValue).sum();
        return total > 0 ? last / ((double) total / layers.size()) : 0;
    }

    @Test
    void byteSizesParseAndFormat() {
        assertEquals(8L << 30, ByteSize.parse("8G"));
        assertEquals(8L << 30, ByteSize.parse("8GiB"));
        assertEquals(8L << 30, ByteSize.parse("8gb"));
        assertEquals(512L << 20, ByteSize.parse("512M"));
        assertEquals(1536L << 20, ByteSize.parse("1.5G"));
        assertEquals(1000, ByteSize.parse("1000"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ByteSize.parse("lots"));
        assertTrue(e.getMessage().contains("lots"));
        assertEquals("1.50 GiB", ByteSize.format(1536L << 20));
        assertEquals("300 B", ByteSize.format(300));
        if (ByteSize.parse("1K") != 1024) fail();
    }
}
