package dev.bunshin.cli;

import dev.bunshin.models.catalog.ModelCatalog;
import dev.bunshin.models.catalog.ModelInfo;
import dev.bunshin.engine.gguf.GgmlType;
import dev.bunshin.models.plan.ByteSize;
import dev.bunshin.llama.LlamaRelease;
import dev.bunshin.llama.StageBackends;

import java.io.PrintStream;
import java.util.Map;
import java.util.Set;

/** {@code ./bunshin inspect MODEL}: what the file holds and which backends can run it. */
final class InspectCommand {
    private InspectCommand() {}

    static int run(String[] argv, PrintStream out, PrintStream err) throws Exception {
        Args a = Args.parse("inspect", argv, ModelArgs.OPTIONS, Set.of());
        String model = a.positional(0, "MODEL (a .gguf path or a model name)");
        a.noMorePositional(1);
        ModelCatalog.Entry e = ModelArgs.resolve(a, model);
        ModelInfo m = ModelInfo.read(e.path());
        print(e, m, out);
        return 0;
    }

    static void print(ModelCatalog.Entry e, ModelInfo m, PrintStream out) {
        row(out, "model", e.id() + (e.source().equals("ollama") ? " (Ollama)" : ""));
        row(out, "file", e.path() + " (" + ByteSize.format(m.fileSize()) + ", " + m.fileSize() + " bytes)");
        row(out, "gguf version", Integer.toString(m.ggufVersion()));
        row(out, "name", m.name() == null ? "-" : m.name());
        row(out, "architecture", m.architecture() == null ? "-" : m.architecture());
        row(out, "layers", Integer.toString(m.nLayers()));
        row(out, "embedding", Integer.toString(m.nEmbd()));
        row(out, "heads", m.nHead() + " (kv heads " + m.nHeadKv() + ", head dim " + m.headDim() + ")");
        row(out, "feed-forward", Integer.toString(m.nFf()));
        row(out, "vocabulary", Integer.toString(m.nVocab()));
        row(out, "context", Integer.toString(m.contextLength()));
        row(out, "tokenizer", m.tokenizerModel() == null ? "-" : m.tokenizerModel());
        row(out, "parameters", ModelInfo.formatCount(m.parameterCount()) + " (" + m.parameterCount() + ")");
        row(out, "quantization", m.quantization() + (m.fileType() >= 0 ? " (general.file_type " + m.fileType() + ")" : ""));
        int count = m.types().values().stream().mapToInt(ModelInfo.TypeStats::count).sum();
        row(out, "tensors", count + " (" + ByteSize.format(m.tensorBytes()) + ")");
        for (Map.Entry<GgmlType, ModelInfo.TypeStats> t : m.types().entrySet()) {
            row(out, "  " + t.getKey().name(), t.getValue().count() + " tensors, "
                    + ByteSize.format(t.getValue().bytes()) + " (" + t.getValue().bytes() + " bytes)");
        }
        row(out, "can run", m.runnable() ? "yes" : "no: " + m.unsupportedReason());
        row(out, "backends", backends(m));
    }

    /** Which --backend can run the model, and how. */
    static String backends(ModelInfo m) {
        String java = m.runnable() ? "java (any split)" : "java no";
        if (m.architecture() == null || m.nLayers() == 0) return java + ", llama.cpp no (no layers)";
        String llama = StageBackends.llamaCppCuts(m.architecture())
                ? "llama.cpp " + LlamaRelease.RELEASE + " (any split)"
                : "llama.cpp " + LlamaRelease.RELEASE + " (one whole stage, if it runs " + m.architecture() + "; not cut into stages)";
        return java + ", " + llama;
    }

    private static void row(PrintStream out, String key, String value) {
        out.printf("%-14s %s%n", key, value);
    }
}
