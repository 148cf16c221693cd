package dev.bunshin.submitter.model;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.filter.AdvancedFilter;

import java.util.Collection;
import java.util.Map;

/**
 * The {@code tojson} filter as Hugging Face's chat templates run it (transformers' own filter:
 * {@code json.dumps(x, ensure_ascii=False, indent=indent, separators=separators, sort_keys=False)}), which llama.cpp's
 * minja copies: Python's separators {@code ", "} and {@code ": "} ({@code ","} before a newline when indented), keys in
 * their given order, non-ASCII as is. Jinjava's own tojson is Jackson's compact JSON, which would put a different
 * tool list into the prompt than the model was trained on.
 */
final class PythonJson implements AdvancedFilter {

    @Override
    public String getName() {
        return "tojson";
    }

    @Override
    public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
        Object indent = kwargs.containsKey("indent") ? kwargs.get("indent") : args.length > 0 ? args[0] : null;
        return dumps(var, indent == null ? -1 : ((Number) (indent instanceof String s ? Integer.valueOf(s) : indent)).intValue());
    }

    /** Python's {@code json.dumps(value, ensure_ascii=False, indent=indent)}; indent &lt; 0: none. */
    static String dumps(Object value, int indent) {
        StringBuilder sb = new StringBuilder();
        write(sb, value, indent, 0);
        return sb.toString();
    }

    private static void write(StringBuilder sb, Object v, int indent, int depth) {
        switch (v) {
            case null -> sb.append("null");
            case String s -> string(sb, s);
            case Boolean b -> sb.append(b ? "true" : "false");
            case Double d when d == Math.rint(d) && !d.isInfinite() && Math.abs(d) < 1e16 -> sb.append(d.longValue()).append(".0");
            case Float f -> write(sb, f.doubleValue(), indent, depth);
            case Number n -> sb.append(n);
            case Map<?, ?> m -> {
                if (m.isEmpty()) {
                    sb.append("{}");
                    return;
                }
                sb.append('{');
                boolean first = true;
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    separate(sb, first, indent, depth + 1);
                    first = false;
                    string(sb, String.valueOf(e.getKey()));
                    sb.append(": ");
                    write(sb, e.getValue(), indent, depth + 1);
                }
                close(sb, indent, depth, '}');
            }
            case Collection<?> c -> {
                if (c.isEmpty()) {
                    sb.append("[]");
                    return;
                }
                sb.append('[');
                boolean first = true;
                for (Object o : c) {
                    separate(sb, first, indent, depth + 1);
                    first = false;
                    write(sb, o, indent, depth + 1);
                }
                close(sb, indent, depth, ']');
            }
            default -> string(sb, v.toString());
        }
    }

    private static void separate(StringBuilder sb, boolean first, int indent, int depth) {
        if (indent >= 0) {
            sb.append(first ? "" : ",").append('\n').append(" ".repeat(indent * depth));
        } else if (!first) {
            sb.append(", ");
        }
    }

    private static void close(StringBuilder sb, int indent, int depth, char bracket) {
        if (indent >= 0) {
            sb.append('\n').append(" ".repeat(indent * depth));
        }
        sb.append(bracket);
    }

    /** A JSON string as Python writes it with ensure_ascii=False: only quote, backslash and controls escaped. */
    private static void string(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }
}
