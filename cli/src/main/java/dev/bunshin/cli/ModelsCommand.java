package dev.bunshin.cli;

import dev.bunshin.models.catalog.ModelCatalog;
import dev.bunshin.models.catalog.ModelInfo;
import dev.bunshin.models.plan.ByteSize;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** {@code ./bunshin models}: the catalogue, one row per model; models that cannot run say why. */
final class ModelsCommand {
    private ModelsCommand() {}

    static int run(String[] argv, PrintStream out, PrintStream err) {
        Args a = Args.parse("models", argv, ModelArgs.OPTIONS, Set.of());
        a.noMorePositional(0);
        ModelCatalog catalog = ModelArgs.catalog(a);
        List<ModelCatalog.Listing> all = catalog.list();
        err.println("Ollama store: " + (catalog.ollama() == null ? "-" : catalog.ollama().root())
                + "; directories: " + (catalog.dirs().isEmpty() ? "none (use --dir D or $" + ModelCatalog.DIRS_ENV + ")"
                : catalog.dirs()));
        if (all.isEmpty()) {
            err.println("no models found");
            return 0;
        }
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[]{"ID", "SOURCE", "ARCH", "LAYERS", "PARAMS", "QUANT", "SIZE", "STATUS"});
        for (ModelCatalog.Listing l : all) {
            ModelInfo m = l.info();
            String reason = l.reason();
            rows.add(new String[]{l.entry().id(), l.entry().source(),
                    m == null || m.architecture() == null ? "-" : m.architecture(),
                    m == null ? "-" : Integer.toString(m.nLayers()),
                    m == null ? "-" : ModelInfo.formatCount(m.parameterCount()),
                    m == null ? "-" : m.quantization(),
                    m == null ? "-" : ByteSize.format(m.fileSize()),
                    reason == null ? "ok" : "cannot run: " + reason});
        }
        Table.print(rows, out);
        return 0;
    }
}
