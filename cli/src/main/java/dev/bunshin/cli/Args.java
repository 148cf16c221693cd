package dev.bunshin.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A parsed command line: positional arguments and {@code --name value} / {@code --name=value} options. Unknown
 * options, missing values and malformed numbers throw {@link UsageException} naming the option.
 */
final class Args {
    private final String command;
    private final List<String> positional;
    private final Map<String, List<String>> values;
    private final Set<String> flagsGiven;

    private Args(String command, List<String> positional, Map<String, List<String>> values, Set<String> flagsGiven) {
        this.command = command;
        this.positional = positional;
        this.values = values;
        this.flagsGiven = flagsGiven;
    }

    /**
     * @param command       for messages, e.g. {@code plan}
     * @param valueOptions  options that take a value (without {@code --})
     * @param flags         options without a value
     */
    static Args parse(String command, String[] argv, Set<String> valueOptions, Set<String> flags) {
        List<String> positional = new ArrayList<>();
        Map<String, List<String>> values = new LinkedHashMap<>();
        Set<String> given = new java.util.HashSet<>();
        for (int i = 0; i < argv.length; i++) {
            String a = argv[i];
            if (a.equals("--")) {
                positional.addAll(List.of(argv).subList(i + 1, argv.length));
                break;
            }
            if (!a.startsWith("--") || a.length() == 2) {
                positional.add(a);
                continue;
            }
            String name = a.substring(2);
            String value = null;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            }
            if (flags.contains(name)) {
                if (value != null) throw new UsageException(command + ": option --" + name + " takes no value");
                given.add(name);
            } else if (valueOptions.contains(name)) {
                if (value == null) {
                    if (i + 1 >= argv.length) {
                        throw new UsageException(command + ": option --" + name + " needs a value");
                    }
                    value = argv[++i];
                }
                values.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
            } else {
                List<String> known = new ArrayList<>();
                valueOptions.stream().sorted().forEach(o -> known.add("--" + o));
                flags.stream().sorted().forEach(o -> known.add("--" + o));
                throw new UsageException(command + ": unknown option --" + name
                        + (known.isEmpty() ? " (it takes no options)" : " (options: " + String.join(", ", known) + ")"));
            }
        }
        return new Args(command, positional, values, given);
    }

    String command() {
        return command;
    }

    List<String> positional() {
        return positional;
    }

    /** Positional argument {@code i}, or a usage error saying {@code what} is missing. */
    String positional(int i, String what) {
        if (i >= positional.size()) throw new UsageException(command + ": missing " + what);
        return positional.get(i);
    }

    void noMorePositional(int allowed) {
        if (positional.size() > allowed) {
            throw new UsageException(command + ": unexpected argument " + positional.get(allowed));
        }
    }

    boolean has(String name) {
        return values.containsKey(name) || flagsGiven.contains(name);
    }

    boolean flag(String name) {
        return flagsGiven.contains(name);
    }

    /** The last value given for {@code --name}, or {@code def}. */
    String get(String name, String def) {
        List<String> v = values.get(name);
        return v == null ? def : v.getLast();
    }

    String require(String name) {
        String v = get(name, null);
        if (v == null) throw new UsageException(command + ": option --" + name + " is required");
        return v;
    }

    /** Every value given for a repeatable option. */
    List<String> all(String name) {
        return values.getOrDefault(name, List.of());
    }

    int getInt(String name, int def, int min) {
        String v = get(name, null);
        if (v == null) return def;
        int n;
        try {
            n = Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new UsageException(command + ": option --" + name + " needs an integer, got \"" + v + "\"");
        }
        if (n < min) throw new UsageException(command + ": option --" + name + " must be >= " + min + ", got " + n);
        return n;
    }

    long getLong(String name, long def) {
        String v = get(name, null);
        if (v == null) return def;
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new UsageException(command + ": option --" + name + " needs an integer, got \"" + v + "\"");
        }
    }

    float getFloat(String name, float def, float min, float max) {
        String v = get(name, null);
        if (v == null) return def;
        float f;
        try {
            f = Float.parseFloat(v.trim());
        } catch (NumberFormatException e) {
            throw new UsageException(command + ": option --" + name + " needs a number, got \"" + v + "\"");
        }
        if (!(f >= min && f <= max)) {
            throw new UsageException(command + ": option --" + name + " must be in [" + min + ", " + max + "], got " + v);
        }
        return f;
    }
}
