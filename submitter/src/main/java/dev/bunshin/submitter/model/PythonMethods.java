package dev.bunshin.submitter.model;

import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELResolver;

import java.beans.FeatureDescriptor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The Python {@code str}/{@code dict} methods chat templates call ({@code content.strip()},
 * {@code role.startswith('a')}, {@code message.items()}, ...), which Jinja inherits from Python and Jinjava, being
 * Java, lacks. Consulted before Jinjava's own resolvers; resolves nothing else.
 */
final class PythonMethods extends ELResolver {

    @Override
    public Object invoke(ELContext context, Object base, Object method, Class<?>[] paramTypes, Object[] params) {
        if (!(method instanceof String name)) {
            return null;
        }
        Object[] p = params == null ? new Object[0] : params;
        Object result = NONE;
        if (base instanceof String s) {
            result = string(s, name, p);
        } else if (base instanceof Map<?, ?> m) {
            result = map(m, name, p);
        }
        if (result == NONE) {
            return null;
        }
        context.setPropertyResolved(true);
        return result;
    }

    private static final Object NONE = new Object();

    private static Object string(String s, String name, Object[] p) {
        return switch (name) {
            case "strip" -> p.length == 0 ? s.strip() : strip(s, str(p[0]), true, true);
            case "lstrip" -> p.length == 0 ? s.stripLeading() : strip(s, str(p[0]), true, false);
            case "rstrip" -> p.length == 0 ? s.stripTrailing() : strip(s, str(p[0]), false, true);
            case "upper" -> s.toUpperCase(Locale.ROOT);
            case "lower" -> s.toLowerCase(Locale.ROOT);
            case "title" -> title(s);
            case "capitalize" -> s.isEmpty() ? s : s.substring(0, 1).toUpperCase(Locale.ROOT) + s.substring(1).toLowerCase(Locale.ROOT);
            case "startswith" -> p.length == 1 && s.startsWith(str(p[0]));
            case "endswith" -> p.length == 1 && s.endsWith(str(p[0]));
            case "split" -> p.length == 0 ? new ArrayList<>(Arrays.asList(s.strip().split("\\s+")))
                    : split(s, str(p[0]));
            case "find" -> s.indexOf(str(p[0]));
            case "count" -> count(s, str(p[0]));
            case "isdigit" -> !s.isEmpty() && s.chars().allMatch(Character::isDigit);
            case "isspace" -> !s.isEmpty() && s.isBlank();
            default -> NONE;
        };
    }

    private static Object map(Map<?, ?> m, String name, Object[] p) {
        return switch (name) {
            case "items" -> {
                List<List<Object>> items = new ArrayList<>();
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    items.add(List.of(e.getKey(), e.getValue() == null ? "" : e.getValue()));
                }
                yield items;
            }
            case "keys" -> new ArrayList<>(m.keySet());
            case "values" -> new ArrayList<>(m.values());
            case "get" -> p.length == 0 ? null : m.containsKey(p[0]) ? m.get(p[0]) : (p.length > 1 ? p[1] : null);
            default -> NONE;
        };
    }

    private static String str(Object o) {
        return o == null ? "" : o.toString();
    }

    private static String strip(String s, String chars, boolean left, boolean right) {
        int a = 0, b = s.length();
        while (left && a < b && chars.indexOf(s.charAt(a)) >= 0) a++;
        while (right && b > a && chars.indexOf(s.charAt(b - 1)) >= 0) b--;
        return s.substring(a, b);
    }

    private static List<String> split(String s, String sep) {
        List<String> out = new ArrayList<>();
        if (sep.isEmpty()) {
            out.add(s);
            return out;
        }
        int from = 0, at;
        while ((at = s.indexOf(sep, from)) >= 0) {
            out.add(s.substring(from, at));
            from = at + sep.length();
        }
        out.add(s.substring(from));
        return out;
    }

    private static int count(String s, String sub) {
        if (sub.isEmpty()) return s.length() + 1;
        int n = 0, from = 0, at;
        while ((at = s.indexOf(sub, from)) >= 0) {
            n++;
            from = at + sub.length();
        }
        return n;
    }

    private static String title(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        boolean up = true;
        for (char c : s.toCharArray()) {
            sb.append(up ? Character.toUpperCase(c) : Character.toLowerCase(c));
            up = !Character.isLetter(c);
        }
        return sb.toString();
    }

    // Not a property resolver: everything below declines.

    @Override
    public Object getValue(ELContext context, Object base, Object property) {
        return null;
    }

    @Override
    public Class<?> getType(ELContext context, Object base, Object property) {
        return null;
    }

    @Override
    public void setValue(ELContext context, Object base, Object property, Object value) {
    }

    @Override
    public boolean isReadOnly(ELContext context, Object base, Object property) {
        return true;
    }

    @Override
    public Iterator<FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) {
        return null;
    }

    @Override
    public Class<?> getCommonPropertyType(ELContext context, Object base) {
        return null;
    }
}
