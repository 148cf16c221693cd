package dev.bunshin.models.plan;

import dev.bunshin.engine.LayerRange;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Splits a model's layers into contiguous stages, one per node, in node order. A pure function: no I/O, no
 * framework, the same input gives the same plan (the scheduler and {@code ./bunshin plan} share it).
 *
 * <p>Each node {@code i} has a weight {@code w_i}, by default {@code speed_i × memory_i} (or {@code speed_i}
 * alone when some node's memory is unknown; {@link Weighting#SPEED} always uses speed alone), and ideally runs
 * {@code nLayers × w_i / Σw} layers. Among all contiguous splits whose stages fit in their node's memory, the
 * planner picks the one closest to these ideals (least sum of squared differences; an exact dynamic program over
 * (node, end layer), O(nodes × layers²)). By default every node gets at least one layer when there are no more
 * nodes than layers; with more nodes than layers, some nodes get none and are left out of the plan. With
 * {@code everyNode = false}, a node may be left out whenever that helps (e.g. one too small for any layer).
 *
 * <p>The memory of a stage running layers {@code [a, b)}: the bytes of those layers' tensors, plus
 * {@code firstExtra} (token embedding) when {@code a == 0}, plus {@code lastExtra} (output norm and head) when
 * {@code b == nLayers}, plus {@code kvBytesPerLayer × (b - a)}.
 */
public final class StagePlanner {

    private StagePlanner() {}

    /** What a node's share of the layers is proportional to. */
    public enum Weighting {
        /** speed × memory when every node's memory is known, else speed. */
        SPEED_TIMES_MEMORY,
        /** speed alone: memory is only a limit (the pipeline's pace is set by its slowest stage). */
        SPEED
    }

    /** {@link Weighting#SPEED_TIMES_MEMORY}, every node used (see the other overload). */
    public static List<StageAssignment> plan(List<Long> layerBytes, long firstExtra, long lastExtra,
                                             long kvBytesPerLayer, List<NodeCapacity> nodes) {
        return plan(layerBytes, firstExtra, lastExtra, kvBytesPerLayer, nodes, Weighting.SPEED_TIMES_MEMORY, true);
    }

    /**
     * @param layerBytes      tensor bytes of each layer, in layer order (size = nLayers ≥ 1)
     * @param firstExtra      bytes only the first stage holds (token embedding)
     * @param lastExtra       bytes only the last stage holds (output norm, output head)
     * @param kvBytesPerLayer KV cache bytes one layer needs (all sequences, whole context)
     * @param nodes           the nodes, in pipeline order
     * @param weighting       what the shares are proportional to
     * @param everyNode       whether every node must get a layer (when there are at least as many layers)
     * @return one assignment per node that gets layers, in pipeline order; ranges cover {@code [0, nLayers)}
     * @throws PlanException naming the shortfall when no split fits
     */
    public static List<StageAssignment> plan(List<Long> layerBytes, long firstExtra, long lastExtra,
                                             long kvBytesPerLayer, List<NodeCapacity> nodes, Weighting weighting,
                                             boolean everyNode) {
        Objects.requireNonNull(weighting, "weighting == null");
        Objects.requireNonNull(layerBytes, "layerBytes == null");
        Objects.requireNonNull(nodes, "nodes == null");
        if (layerBytes.isEmpty()) {
            throw new IllegalArgumentException("a model needs at least one layer to plan");
        }
        if (nodes.isEmpty()) {
            throw new IllegalArgumentException("no nodes to plan on");
        }
        if (firstExtra < 0 || lastExtra < 0 || kvBytesPerLayer < 0) {
            throw new IllegalArgumentException("negative bytes: firstExtra " + firstExtra + ", lastExtra "
                    + lastExtra + ", kvBytesPerLayer " + kvBytesPerLayer);
        }
        int nLayers = layerBytes.size();
        int nNodes = nodes.size();
        long[] prefix = new long[nLayers + 1]; // prefix[i] = bytes of layers [0, i)
        for (int il = 0; il < nLayers; il++) {
            long b = Objects.requireNonNull(layerBytes.get(il), "layerBytes[" + il + "] == null");
            if (b < 0) {
                throw new IllegalArgumentException("layer " + il + " has negative size " + b);
            }
            prefix[il + 1] = prefix[il] + b;
        }
        Segments seg = new Segments(prefix, firstExtra, lastExtra, kvBytesPerLayer);
        // The last stage also runs the output head: as much work as this many layers (work ∝ weight bytes read).
        double head = prefix[nLayers] > 0 ? lastExtra / ((double) prefix[nLayers] / nLayers) : 0;
        double[] ideal = idealLayers(nLayers + head, nodes, weighting);
        boolean zeroAllowed = !everyNode || nNodes > nLayers;

        // cost[i + 1][b]: least squared deviation of nodes 0..i covering layers [0, b); from[i + 1][b]: its start a.
        double[][] cost = new double[nNodes + 1][nLayers + 1];
        int[][] from = new int[nNodes + 1][nLayers + 1];
        for (double[] row : cost) {
            java.util.Arrays.fill(row, Double.POSITIVE_INFINITY);
        }
        cost[0][0] = 0;
        for (int i = 0; i < nNodes; i++) {
            long mem = nodes.get(i).memoryBytes();
            for (int b = 0; b <= nLayers; b++) {
                double best = Double.POSITIVE_INFINITY;
                int bestA = -1;
                for (int a = 0; a <= b; a++) {
                    if (cost[i][a] == Double.POSITIVE_INFINITY) continue;
                    int count = b - a;
                    if (count == 0 ? !zeroAllowed : seg.bytes(a, b) > mem) continue;
                    double d = count + (b == nLayers && count > 0 ? head : 0) - ideal[i];
                    double c = cost[i][a] + d * d;
                    if (c < best) {
                        best = c;
                        bestA = a;
                    }
                }
                cost[i + 1][b] = best;
                from[i + 1][b] = bestA;
            }
        }
        if (cost[nNodes][nLayers] == Double.POSITIVE_INFINITY) {
            throw new PlanException(explainShortfall(seg, nLayers, nodes, everyNode));
        }
        List<StageAssignment> out = new ArrayList<>();
        int b = nLayers;
        for (int i = nNodes; i >= 1; i--) {
            int a = from[i][b];
            if (b > a) {
                NodeCapacity n = nodes.get(i - 1);
                out.addFirst(new StageAssignment(i - 1, n.name(), new LayerRange(a, b), seg.weights(a, b),
                        seg.kv(a, b), n.memoryBytes()));
            }
            b = a;
        }
        return List.copyOf(out);
    }

    /**
     * A plan, and the nodes it leaves out because they would have slowed it, each with why.
     *
     * @param stages  as {@link #plan}
     * @param leftOut one line per node left out, naming it and the times per step with and without it
     */
    public record Choice(List<StageAssignment> stages, List<String> leftOut) {
        public Choice {
            stages = List.copyOf(stages);
            leftOut = List.copyOf(leftOut);
        }
    }

    /**
     * As {@link #plan(List, long, long, long, List)} with every node, then without the slowest node for as long as
     * that at least halves the slowest stage's time ({@link #LEAVE_OUT_GAIN}). A pipeline runs at its slowest stage's
     * pace, and a node gets at least one layer: a node much slower than the others (a laptop beside two desktops)
     * turns its one layer into the slowest stage of all. A stage's time per step is taken as its weight bytes (the
     * head's included; the token embedding, a lookup, not) ÷ its node's speed. A node the others cannot do without
     * (memory) stays.
     */
    public static Choice planLeavingOutSlowNodes(List<Long> layerBytes, long firstExtra, long lastExtra,
                                                 long kvBytesPerLayer, List<NodeCapacity> nodes) {
        List<NodeCapacity> kept = new ArrayList<>(nodes);
        List<StageAssignment> best = plan(layerBytes, firstExtra, lastExtra, kvBytesPerLayer, kept);
        List<String> leftOut = new ArrayList<>();
        while (kept.size() > 1) {
            NodeCapacity slowest = kept.getFirst();
            for (NodeCapacity n : kept) if (n.speed() <= slowest.speed()) slowest = n;
            List<NodeCapacity> without = new ArrayList<>(kept);
            without.remove(slowest);
            List<StageAssignment> candidate;
            try {
                candidate = plan(layerBytes, firstExtra, lastExtra, kvBytesPerLayer, without);
            } catch (PlanException e) {
                break; // the others cannot hold the model without it
            }
            double with = slowestStage(best, kept, firstExtra);
            double alone = slowestStage(candidate, without, firstExtra);
            if (alone > with * (1 - LEAVE_OUT_GAIN)) break;
            leftOut.add(String.format(java.util.Locale.ROOT, "%s (speed %.3g) left out: with it the slowest stage "
                            + "takes %.3g units per step, without it %.3g (%.2f× faster); a pipeline runs at its slowest "
                            + "stage's pace", slowest.name(), slowest.speed(), with, alone, with / alone));
            kept = without;
            best = candidate;
        }
        List<StageAssignment> renumbered = new ArrayList<>(best.size()); // node: an index into the caller's list
        for (StageAssignment a : best) {
            renumbered.add(new StageAssignment(nodes.indexOf(kept.get(a.node())), a.nodeName(), a.range(),
                    a.weightBytes(), a.kvBytes(), a.memoryBytes()));
        }
        return new Choice(renumbered, leftOut);
    }

    /**
     * How much faster the slowest stage must get for {@link #planLeavingOutSlowNodes} to leave a node out: half its
     * time. Speeds are measured once at start-up, and on a busy machine two probes of equal nodes have differed
     * 5-fold; only a node that would clearly pace the pipeline is left out.
     */
    public static final double LEAVE_OUT_GAIN = 0.5;

    /** The slowest stage's time per step: its weight bytes (token embedding excluded) ÷ its node's speed, in GB. */
    static double slowestStage(List<StageAssignment> stages, List<NodeCapacity> nodes, long firstExtra) {
        double worst = 0;
        for (StageAssignment a : stages) {
            long bytes = a.weightBytes() - (a.range().start() == 0 ? firstExtra : 0);
            worst = Math.max(worst, bytes / 1e9 / nodes.get(a.node()).speed());
        }
        return worst;
    }

    /** The ideal (fractional) share of {@code work} (layers, plus the head's equivalent) per node. */
    static double[] idealLayers(double nLayers, List<NodeCapacity> nodes, Weighting weighting) {
        boolean allKnown = weighting == Weighting.SPEED_TIMES_MEMORY && nodes.stream().allMatch(NodeCapacity::memoryKnown);
        double[] w = new double[nodes.size()];
        double sum = 0;
        for (int i = 0; i < w.length; i++) {
            NodeCapacity n = nodes.get(i);
            w[i] = n.speed() * (allKnown ? (double) n.memoryBytes() : 1.0);
            sum += w[i];
        }
        for (int i = 0; i < w.length; i++) {
            w[i] = nLayers * w[i] / sum;
        }
        return w;
    }

    /** Why no split fits: the total when it is short, else where a greedy fill first gets stuck. */
    private static String explainShortfall(Segments seg, int nLayers, List<NodeCapacity> nodes, boolean everyNode) {
        long need = seg.bytes(0, nLayers);
        long have = 0;
        for (NodeCapacity n : nodes) {
            have = n.memoryKnown() ? saturatedAdd(have, n.memoryBytes()) : Long.MAX_VALUE;
        }
        String needText = "the model needs " + ByteSize.format(need) + " (weights "
                + ByteSize.format(seg.weights(0, nLayers)) + " + KV cache " + ByteSize.format(seg.kv(0, nLayers)) + ")";
        if (need > have) {
            return "cannot place " + nLayers + " layers on " + nodes.size() + " node(s): " + needText + " but the nodes have "
                    + ByteSize.format(have) + " in all: short by " + ByteSize.format(need - have) + " (" + (need - have)
                    + " bytes)";
        }
        // Enough in total, but not in contiguous pieces: show how far filling each node to the brim gets.
        StringBuilder sb = new StringBuilder("cannot place " + nLayers + " layers on " + nodes.size() + " node(s): "
                + needText + ", " + ByteSize.format(have) + " available in all, but not in contiguous ranges:");
        int a = 0;
        for (NodeCapacity n : nodes) {
            int b = a;
            while (b < nLayers && seg.bytes(a, b + 1) <= n.memoryBytes()) b++;
            if (b == a && !everyNode) {
                sb.append(" node ").append(n.name()).append(" holds no layer;");
            } else if (b == a) {
                sb.append(" node ").append(n.name()).append(" (").append(ByteSize.format(n.memoryBytes()))
                        .append(") cannot hold layer ").append(a).append(" alone (").append(ByteSize.format(seg.bytes(a, a + 1)))
                        .append(");");
            } else {
                sb.append(" node ").append(n.name()).append(" holds at most layers ").append(new LayerRange(a, b)).append(';');
            }
            a = b;
            if (a == nLayers) break;
        }
        if (a < nLayers) {
            sb.append(" layers ").append(new LayerRange(a, nLayers)).append(" (").append(ByteSize.format(seg.bytes(a, nLayers)))
                    .append(") are left over");
        } else {
            sb.append(" and every node needs at least one layer");
        }
        return sb.toString();
    }

    private static long saturatedAdd(long x, long y) {
        long r = x + y;
        return ((x ^ r) & (y ^ r)) < 0 ? Long.MAX_VALUE : r;
    }

    /** Bytes of a stage running layers [a, b). */
    private record Segments(long[] prefix, long firstExtra, long lastExtra, long kvPerLayer) {
        long weights(int a, int b) {
            int nLayers = prefix.length - 1;
            return prefix[b] - prefix[a] + (a == 0 ? firstExtra : 0) + (b == nLayers ? lastExtra : 0);
        }

        long kv(int a, int b) {
            return kvPerLayer * (b - a);
        }

        long bytes(int a, int b) {
            return weights(a, b) + kv(a, b);
        }
    }
}
