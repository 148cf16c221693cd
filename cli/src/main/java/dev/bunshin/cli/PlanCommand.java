package dev.bunshin.cli;

import dev.bunshin.models.catalog.ModelCatalog;
import dev.bunshin.models.catalog.ModelInfo;
import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.models.plan.ByteSize;
import dev.bunshin.models.plan.ModelFootprint;
import dev.bunshin.models.plan.NodeCapacity;
import dev.bunshin.models.plan.PlanException;
import dev.bunshin.models.plan.StageAssignment;
import dev.bunshin.models.plan.StagePlanner;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * {@code ./bunshin plan MODEL --nodes N [--memory 8G,8G,16G] [--speed 1,1,2] [--context C] [--sequences S]
 * [--weighting speed-memory|speed]}:
 * the layer ranges {@link StagePlanner} gives and the memory each stage needs.
 */
final class PlanCommand {
    private PlanCommand() {}

    static int run(String[] argv, PrintStream out, PrintStream err) throws Exception {
        Args a = Args.parse("plan", argv, ModelArgs.with("nodes", "memory", "speed", "context", "sequences", "weighting"), Set.of());
        String model = a.positional(0, "MODEL (a .gguf path or a model name)");
        a.noMorePositional(1);
        List<Long> memory = a.has("memory") ? parseList(a, "memory", ByteSize::parse) : null;
        List<Double> speed = a.has("speed") ? parseList(a, "speed", PlanCommand::parseSpeed) : null;
        int nNodes;
        if (a.has("nodes")) {
            nNodes = a.getInt("nodes", 0, 1);
        } else if (memory != null && memory.size() > 1) {
            nNodes = memory.size();
        } else {
            throw new UsageException("plan: option --nodes is required (the number of stage workers)");
        }
        StagePlanner.Weighting weighting = switch (a.get("weighting", "speed-memory")) {
            case "speed-memory" -> StagePlanner.Weighting.SPEED_TIMES_MEMORY;
            case "speed" -> StagePlanner.Weighting.SPEED;
            default -> throw new UsageException("plan: option --weighting must be speed-memory or speed, got \""
                    + a.get("weighting", "") + "\"");
        };
        memory = spread(a, "memory", memory, nNodes);
        speed = spread(a, "speed", speed, nNodes);

        ModelCatalog.Entry e = ModelArgs.resolve(a, model);
        try (GgufFile f = GgufFile.open(e.path())) {
            ModelInfo m = ModelInfo.of(f);
            if (m.nLayers() <= 0 || m.nHeadKv() <= 0 || m.headDim() <= 0) {
                throw new IllegalArgumentException(e.path() + ": cannot plan: " + (m.runnable() ? "missing hyperparameters"
                        : m.unsupportedReason()));
            }
            int context = a.getInt("context", m.contextLength(), 1);
            int sequences = a.getInt("sequences", 1, 1);
            ModelFootprint fp = ModelFootprint.of(f, m.nLayers());
            long kvPerLayer = ModelFootprint.kvBytesPerLayer(context, m.nHeadKv(), m.headDim(), sequences);
            List<NodeCapacity> nodes = new ArrayList<>();
            for (int i = 0; i < nNodes; i++) {
                nodes.add(new NodeCapacity("node-" + i, memory == null ? Long.MAX_VALUE : memory.get(i),
                        speed == null ? 1.0 : speed.get(i)));
            }
            out.printf("model %s: %s, %d layers, %s of tensors%n", e.id(), m.architecture(), m.nLayers(),
                    ByteSize.format(m.tensorBytes()));
            out.printf("KV cache: F32, 2 (K and V) × %d context × %d kv heads × %d head dim × 4 B = %s per layer "
                            + "for %d sequence%s%n", context, m.nHeadKv(), m.headDim(), ByteSize.format(kvPerLayer),
                    sequences, sequences == 1 ? "" : "s");
            if (!m.runnable()) {
                err.println("note: the engine cannot run this model: " + m.unsupportedReason());
            }
            List<StageAssignment> plan;
            List<String> leftOut = List.of();
            try {
                if (weighting == StagePlanner.Weighting.SPEED_TIMES_MEMORY) { // speeds given by the user, not probed
                    StagePlanner.Choice c = StagePlanner.planLeavingOutSlowNodes(fp.layerBytes(), fp.firstExtra(),
                            fp.lastExtra(), kvPerLayer, nodes);
                    plan = c.stages();
                    leftOut = c.leftOut();
                } else {
                    plan = StagePlanner.plan(fp.layerBytes(), fp.firstExtra(), fp.lastExtra(), kvPerLayer, nodes, weighting, true);
                }
            } catch (PlanException ex) {
                err.println("bunshin plan: " + ex.getMessage());
                return 1;
            }
            List<String[]> rows = new ArrayList<>();
            rows.add(new String[]{"STAGE", "NODE", "LAYERS", "COUNT", "WEIGHTS", "KV CACHE", "TOTAL", "MEMORY", "SPEED"});
            for (int s = 0; s < plan.size(); s++) {
                StageAssignment st = plan.get(s);
                String extra = (st.range().isFirst() ? " +embd" : "") + (st.range().isLast(m.nLayers()) ? " +head" : "");
                rows.add(new String[]{Integer.toString(s), st.nodeName(), st.range() + extra,
                        Integer.toString(st.range().size()), ByteSize.format(st.weightBytes()),
                        ByteSize.format(st.kvBytes()), ByteSize.format(st.totalBytes()), ByteSize.format(st.memoryBytes()),
                        String.format(Locale.ROOT, "%.3g", nodes.get(st.node()).speed())});
            }
            Table.print(rows, out);
            for (String why : leftOut) out.println(why);
            if (plan.size() + leftOut.size() < nNodes) {
                out.printf("%d node(s) get no layers: the model has only %d%n", nNodes - plan.size() - leftOut.size(),
                        m.nLayers());
            }
            return 0;
        }
    }

    private static double parseSpeed(String s) {
        double d = Double.parseDouble(s);
        if (!(d > 0) || Double.isInfinite(d)) throw new IllegalArgumentException("speed must be > 0");
        return d;
    }

    private static <T> List<T> parseList(Args a, String option, java.util.function.Function<String, T> parse) {
        List<T> out = new ArrayList<>();
        for (String part : a.get(option, "").split(",")) {
            try {
                out.add(parse.apply(part.trim()));
            } catch (RuntimeException ex) {
                throw new UsageException("plan: option --" + option + ": bad value \"" + part.trim() + "\" ("
                        + ex.getMessage() + ")");
            }
        }
        return out;
    }

    /** One value for every node, or exactly one value per node. */
    private static <T> List<T> spread(Args a, String option, List<T> values, int nNodes) {
        if (values == null) return null;
        if (values.size() == 1) return java.util.Collections.nCopies(nNodes, values.getFirst());
        if (values.size() != nNodes) {
            throw new UsageException("plan: option --" + option + " has " + values.size() + " values but --nodes is "
                    + nNodes + " (give one value, or one per node)");
        }
        return values;
    }
}
