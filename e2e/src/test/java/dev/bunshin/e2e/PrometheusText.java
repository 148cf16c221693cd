package dev.bunshin.e2e;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One scrape in the Prometheus text exposition format (version 0.0.4): {@code # HELP}/{@code # TYPE} comments and
 * sample lines {@code name{label="value",...} value}. Enough of the format to read back what the apps serve.
 */
final class PrometheusText {

    /** One sample line. */
    record Sample(String name, Map<String, String> labels, double value) {
    }

    private static final Pattern LINE = Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(.*)})?\\s+(\\S+)(\\s+\\d+)?");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\",?");

    final String text;
    final List<Sample> samples = new ArrayList<>();
    /** Declared types by metric family name. */
    final Map<String, String> types = new LinkedHashMap<>();

    /** Parses {@code text}; a line that is neither a comment nor a sample is an error naming it. */
    PrometheusText(String text) {
        this.text = text;
        for (String line : text.split("\n")) {
            if (line.isBlank()) continue;
            if (line.startsWith("# TYPE ")) {
                String[] parts = line.substring(7).trim().split("\\s+");
                types.put(parts[0], parts[1]);
                continue;
            }
            if (line.startsWith("#")) continue;
            Matcher m = LINE.matcher(line);
            if (!m.matches()) throw new IllegalArgumentException("not a Prometheus sample line: '" + line + "'");
            Map<String, String> labels = new LinkedHashMap<>();
            if (m.group(3) != null) {
                Matcher l = LABEL.matcher(m.group(3));
                while (l.find()) labels.put(l.group(1), l.group(2));
            }
            samples.add(new Sample(m.group(1), labels, parse(m.group(4))));
        }
    }

    /**
     * The sum of {@code name}'s samples whose labels include {@code labelPairs} (name, value, name, value, ...);
     * 0 when there are none.
     */
    double sum(String name, String... labelPairs) {
        double sum = 0;
        for (Sample s : matching(name, labelPairs)) sum += s.value();
        return sum;
    }

    List<Sample> matching(String name, String... labelPairs) {
        List<Sample> out = new ArrayList<>();
        outer:
        for (Sample s : samples) {
            if (!s.name().equals(name)) continue;
            for (int i = 0; i < labelPairs.length; i += 2) {
                if (!labelPairs[i + 1].equals(s.labels().get(labelPairs[i]))) continue outer;
            }
            out.add(s);
        }
        return out;
    }

    private static double parse(String value) {
        return switch (value) {
            case "+Inf" -> Double.POSITIVE_INFINITY;
            case "-Inf" -> Double.NEGATIVE_INFINITY;
            default -> Double.parseDouble(value); // also "NaN"
        };
    }
}
