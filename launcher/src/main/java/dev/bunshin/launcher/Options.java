package dev.bunshin.launcher;

import java.util.ArrayList;
import java.util.List;

/**
 * The {@code --name value} / {@code --name=value} pairs of a launcher command line ({@code up}, {@code demo},
 * {@code worker}: every option takes a value), in order, with the errors every such command gives.
 */
final class Options {
    private Options() {}

    record Option(String name, String value) {}

    /** @throws IllegalArgumentException naming the argument, followed by {@code usage} */
    static List<Option> parse(String[] args, String usage) {
        List<Option> out = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            String name = arg;
            String value = null;
            int eq = arg.indexOf('=');
            if (arg.startsWith("--") && eq > 0) {
                name = arg.substring(0, eq);
                value = arg.substring(eq + 1);
            }
            if (!name.startsWith("--")) {
                throw new IllegalArgumentException("unexpected argument: " + arg + "\n" + usage);
            }
            if (value == null) {
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException("option " + name + " needs a value\n" + usage);
                }
                value = args[++i];
            }
            out.add(new Option(name, value));
        }
        return out;
    }

    /** The option's value as an int. */
    /** What {@code --backend} defaults to: the Java engine (exact, batch-invariant; see README, Backends). */
    static final String DEFAULT_BACKEND = "java";

    /** The names {@code --backend} takes (the llama.cpp module's {@code StageBackends.NAMES}). */
    static final List<String> BACKENDS = List.of("java", "llama.cpp");

    /** @throws IllegalArgumentException naming --backend and the value if it is not one of {@link #BACKENDS} */
    static void checkBackend(String backend) {
        if (!BACKENDS.contains(backend)) {
            throw new IllegalArgumentException("--backend must be one of " + String.join(", ", BACKENDS) + ", got \""
                    + backend + "\"");
        }
    }

    static int intValue(String name, String value) {
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " needs a number: " + value);
        }
    }
}
