package dev.bunshin.cli;

import dev.bunshin.models.catalog.ModelInfo;
import dev.bunshin.models.synthetic.SyntheticModel;
import dev.bunshin.models.plan.ByteSize;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * {@code ./bunshin bench make-models DIR [--layers L] [--mixes Q8_0,Q4_0,Q4_K_M] [--tiny] [--force]}:
 * random-weight models with TinyLlama 1.1B's shapes (22 layers, 2048 wide, 32 heads, 4 KV heads, FFN 5632,
 * vocabulary 32000), written by the engine's {@link SyntheticModel}, for {@code bench engine} when no real model
 * is at hand. {@code --tiny}: 2 layers, 256 wide, vocabulary 512 instead, for a quick check.
 */
final class MakeModels {
    private MakeModels() {}

    static final List<String> DEFAULT_MIXES = List.of("Q8_0", "Q4_0", "Q4_K_M");

    static int run(String[] argv, PrintStream out, PrintStream err) throws Exception {
        Args a = Args.parse("bench make-models", argv, Set.of("layers", "mixes"), Set.of("force", "tiny"));
        Path dir = Path.of(a.positional(0, "DIR (where to write the models)"));
        a.noMorePositional(1);
        List<SyntheticModel.Mix> mixes = a.has("mixes") ? parseMixes(a.get("mixes", "")) : DEFAULT_MIXES.stream()
                .map(SyntheticModel.Mix::valueOf).toList();
        boolean tiny = a.flag("tiny");
        int defaultLayers = (tiny ? SyntheticModel.tiny("llama", SyntheticModel.Mix.Q8_0)
                : SyntheticModel.tinyLlama1B(SyntheticModel.Mix.Q8_0)).nLayers();
        int layers = a.getInt("layers", defaultLayers, 1);
        Files.createDirectories(dir);
        for (SyntheticModel.Mix mix : mixes) {
            SyntheticModel.Spec spec = (tiny ? SyntheticModel.tiny("llama", mix) : SyntheticModel.tinyLlama1B(mix))
                    .withLayers(layers);
            String name = "synthetic-" + (tiny ? "tiny-llama" : "tinyllama") + (layers == defaultLayers ? "" : "-" + layers + "L") + "-"
                    + mix.name().toLowerCase(Locale.ROOT) + ".gguf";
            Path file = dir.resolve(name);
            if (Files.exists(file) && !a.flag("force")) {
                err.println("exists, kept: " + file + " (--force to rewrite)");
                out.println(file);
                continue;
            }
            long t0 = System.nanoTime();
            SyntheticModel.write(file, spec);
            ModelInfo info = ModelInfo.read(file);
            err.printf(Locale.ROOT, "wrote %s: %s parameters, %s, %s, in %.1f s%n", file,
                    ModelInfo.formatCount(spec.parameterCount()), info.quantization(), ByteSize.format(info.fileSize()),
                    (System.nanoTime() - t0) / 1e9);
            out.println(file);
        }
        return 0;
    }

    private static List<SyntheticModel.Mix> parseMixes(String text) {
        return java.util.Arrays.stream(text.split(",")).map(String::trim).map(m -> {
            try {
                return SyntheticModel.Mix.valueOf(m);
            } catch (IllegalArgumentException e) {
                throw new UsageException("bench make-models: option --mixes: unknown mix \"" + m + "\" (known: "
                        + List.of(SyntheticModel.Mix.values()) + ")");
            }
        }).toList();
    }
}
