package dev.bunshin.cli;

import java.io.PrintStream;
import java.util.Set;

/** {@code ./bunshin bench make-models DIR}: synthetic TinyLlama-shaped models in Q8_0, Q4_0 and Q4_K_M. */
final class MakeModels {
    private MakeModels() {}

    static int run(String[] argv, PrintStream out, PrintStream err) {
        Args a = Args.parse("bench make-models", argv, Set.of(), Set.of());
        a.positional(0, "DIR (where to write the models)");
        a.noMorePositional(1);
        err.println("bunshin bench make-models: not available in this build (the synthetic model writer is missing)");
        return 1;
    }
}
