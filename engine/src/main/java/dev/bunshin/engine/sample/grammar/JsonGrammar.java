package dev.bunshin.engine.sample.grammar;

import java.math.BigDecimal;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static dev.bunshin.engine.sample.grammar.Grammar.of;
import static dev.bunshin.engine.sample.grammar.Grammar.seq;

/**
 * Compiles "any JSON object" or a JSON Schema into a byte {@link Grammar} (what llama.cpp's
 * {@code json-schema-to-grammar} does for GBNF), framed as {@code prefix ws document suffix}.
 *
 * <p>JSON as RFC 8259 spells it, with limits so a model cannot loop forever on filler: whitespace between tokens is
 * nothing, one space, or a newline and up to {@value #MAX_INDENT} spaces or tabs; an integer part has at most
 * {@value #MAX_DIGITS} - 1 digits (safe integers in JavaScript), a fraction at most {@value #MAX_DIGITS}, an exponent at most 3. Strings are
 * well-formed UTF-8 (spelled byte by byte, so a token may end inside a character) without raw control characters;
 * escapes are {@code \" \\ \/ \b \f \n \r \t} and &#92;uXXXX.
 *
 * <p>The schema subset is OpenAI's strict mode and a little more: {@code type} (one name or a list), objects with
 * {@code properties} (generated in the schema's order; those not {@code required} may be left out),
 * {@code required}, {@code additionalProperties} ({@code false}, or {@code true}/absent: only the declared
 * properties are generated, which such a schema also accepts; a schema without {@code properties}: a map of it),
 * arrays with {@code items}, {@code minItems}, {@code maxItems}; {@code enum}, {@code const}, {@code anyOf},
 * {@code $ref} into {@code $defs}/{@code definitions} (recursion allowed), and on integers the bounds Zod writes
 * (see {@link #boundedInteger}). Annotations ({@code title},
 * {@code description}, …) are ignored. Every other keyword ({@code pattern}, {@code format}, {@code minLength},
 * {@code multipleOf}, {@code oneOf}, {@code allOf}, …) is refused by name ({@link UnsupportedSchemaException}) rather
 * than silently not enforced.
 */
public final class JsonGrammar {

    static final int MAX_INDENT = 12;
    static final int MAX_DIGITS = 16;
    private static final int MAX_ITEMS = 1000;

    private static final Set<String> ANNOTATIONS = Set.of("title", "description", "$schema", "$id", "$comment",
            "default", "examples", "deprecated", "readOnly", "writeOnly", "$defs", "definitions", "strict");
    private static final Set<String> HANDLED = Set.of("type", "properties", "required", "additionalProperties",
            "items", "minItems", "maxItems", "enum", "const", "anyOf", "$ref", "minimum", "maximum",
            "exclusiveMinimum", "exclusiveMaximum");
    /** The largest integer the grammar writes ({@value #MAX_DIGITS} nines): a bound beyond it excludes nothing. */
    private static final BigDecimal LARGEST = new BigDecimal("9".repeat(MAX_DIGITS - 1));

    private final Grammar.Builder g = new Grammar.Builder();
    private final Object root;
    private final Map<String, Integer> refs = new HashMap<>();
    private final Map<String, Integer> shared = new HashMap<>();

    private JsonGrammar(Object root) {
        this.root = root;
    }

    /** Any JSON object (OpenAI's {@code json_object}), between {@code prefix} and {@code suffix}. */
    public static Grammar object(String prefix, String suffix) {
        JsonGrammar j = new JsonGrammar(null);
        return j.framed(prefix, j.object(), suffix);
    }

    /**
     * A document that {@code schema} (as {@link Json#parse} reads it) accepts, between {@code prefix} and
     * {@code suffix}.
     *
     * @throws UnsupportedSchemaException naming the path and keyword it cannot honour
     */
    public static Grammar schema(Object schema, String prefix, String suffix) {
        JsonGrammar j = new JsonGrammar(schema);
        return j.framed(prefix, j.node(schema, ""), suffix);
    }

    private Grammar framed(String prefix, int document, String suffix) {
        int r = g.rule("root");
        g.alt(r, seq(g.literal(prefix), of(ws(), document), g.literal(suffix)));
        return g.build(r);
    }

    // ---- plain JSON -------------------------------------------------------------------------------------------

    private int once(String name, java.util.function.IntSupplier build) {
        Integer r = shared.get(name);
        if (r == null) {
            r = build.getAsInt();
            shared.put(name, r);
        }
        return r;
    }

    /** Up to {@code k} symbols of {@code term}: a chain of optional rules. */
    private int upTo(String name, int term, int k) {
        int r = g.rule(name + "0", of());
        for (int i = 1; i <= k; i++) r = g.rule(name + i, of(), of(term, r));
        return r;
    }

    private int ws() {
        return once("ws", () -> g.rule("ws", of(), g.literal(" "),
                seq(g.literal("\n"), of(upTo("indent", g.bytes(' ', ' ', '\t', '\t'), MAX_INDENT)))));
    }

    private int value() {
        Integer r = shared.get("value");
        if (r != null) return r;
        int v = g.rule("value");
        shared.put("value", v); // before its alternatives: objects and arrays hold values
        g.alt(v, object()).alt(v, array(v, 0, -1)).alt(v, string()).alt(v, number())
                .alt(v, bool()).alt(v, g.literal("null"));
        return v;
    }

    private int object() {
        return once("object", () -> map(value()));
    }

    /** An object whose member values are {@code valueRule}: {@code "{" ws ( "}" | member ("," ws member)* "}" )}. */
    private int map(int valueRule) {
        int member = g.rule("member", seq(of(string(), ws()), g.literal(":"), of(ws(), valueRule, ws())));
        int more = g.rule("members");
        g.alt(more).alt(more, seq(g.literal(","), of(ws(), member, more)));
        int body = g.rule("object-body", g.literal("}"), seq(of(member, more), g.literal("}")));
        return g.rule("object", seq(g.literal("{"), of(ws(), body)));
    }

    /** {@code "[" ws items "]"} with between {@code min} and {@code max} items ({@code max < 0}: no bound). */
    private int array(int item, int min, int max) {
        int elem = g.rule("item", of(item, ws()));
        int comma = g.rule("comma", seq(g.literal(","), of(ws())));
        int tail;
        int optional = max < 0 ? -1 : max - Math.max(min, 0);
        if (optional < 0) {
            tail = g.rule("items");
            g.alt(tail).alt(tail, comma, elem, tail);
        } else {
            tail = g.rule("items0", of());
            for (int k = 1; k <= optional; k++) tail = g.rule("items" + k, of(), of(comma, elem, tail));
        }
        int body;
        if (min <= 0) {
            // no item, or a first one then the rest (one fewer optional when bounded)
            int rest = tail;
            if (optional >= 0) {
                rest = g.rule("items-after-first0", of());
                for (int k = 1; k < optional; k++) rest = g.rule("items-after-first" + k, of(), of(comma, elem, rest));
            }
            body = optional == 0 ? g.rule("array-body", of()) : g.rule("array-body", of(), of(elem, rest));
        } else {
            int[] syms = new int[2 * min];
            syms[0] = elem;
            int at = 1;
            for (int k = 1; k < min; k++) {
                syms[at++] = comma;
                syms[at++] = elem;
            }
            syms[at++] = tail;
            body = g.rule("array-body", java.util.Arrays.copyOf(syms, at));
        }
        return g.rule("array", seq(g.literal("["), of(ws(), body), g.literal("]")));
    }

    private int string() {
        return once("string", () -> {
            int cont = g.bytes(0x80, 0xBF);
            int hex = g.bytes('0', '9', 'a', 'f', 'A', 'F');
            int escape = g.rule("escape", of(g.bytes('"', '"', '\\', '\\', '/', '/', 'b', 'b', 'f', 'f', 'n', 'n',
                    'r', 'r', 't', 't')), seq(g.literal("u"), of(hex, hex, hex, hex)));
            // RFC 3629's well-formed UTF-8 byte sequences, and no raw control characters, '"' or '\'
            int ch = g.rule("char",
                    of(g.bytes(0x20, 0x21, 0x23, 0x5B, 0x5D, 0x7F)),
                    seq(g.literal("\\"), of(escape)),
                    of(g.bytes(0xC2, 0xDF), cont),
                    of(g.bytes(0xE0, 0xE0), g.bytes(0xA0, 0xBF), cont),
                    of(g.bytes(0xE1, 0xEC, 0xEE, 0xEF), cont, cont),
                    of(g.bytes(0xED, 0xED), g.bytes(0x80, 0x9F), cont),
                    of(g.bytes(0xF0, 0xF0), g.bytes(0x90, 0xBF), cont, cont),
                    of(g.bytes(0xF1, 0xF3), cont, cont, cont),
                    of(g.bytes(0xF4, 0xF4), g.bytes(0x80, 0x8F), cont, cont));
            int chars = g.rule("chars");
            g.alt(chars).alt(chars, ch, chars);
            return g.rule("string", seq(g.literal("\""), of(chars), g.literal("\"")));
        });
    }

    private int integer() {
        return once("integer", () -> g.rule("integer", of(natural()), seq(g.literal("-"), of(natural()))));
    }

    /** 0 or a positive integer of at most {@value #MAX_DIGITS} - 1 digits. */
    private int natural() {
        return once("natural", () -> g.rule("natural", g.literal("0"), of(positive())));
    }

    private int positive() {
        return once("positive", () -> g.rule("positive", of(g.bytes('1', '9'),
                upTo("digits", g.bytes('0', '9'), MAX_DIGITS - 2))));
    }

    /**
     * An integer within {@code minimum}/{@code maximum} (or the exclusive ones). Honoured: a lower bound of 0 or 1
     * (non-negative, positive: Zod's {@code nonnegative()} and {@code positive()}) or none below -{@link #LARGEST},
     * and no upper bound below {@link #LARGEST} (Zod's {@code int()} writes ±(2^53 - 1), which exclude nothing the
     * grammar writes). Any other bound is refused by name: a grammar for arbitrary ranges is not built here.
     */
    private int boundedInteger(Map<String, Object> m, String path) {
        BigDecimal lo = bound(m, "minimum", path, 0);
        BigDecimal exLo = bound(m, "exclusiveMinimum", path, 1);
        if (exLo != null && (lo == null || exLo.compareTo(lo) > 0)) lo = exLo;
        BigDecimal hi = bound(m, "maximum", path, 0);
        BigDecimal exHi = bound(m, "exclusiveMaximum", path, -1);
        if (exHi != null && (hi == null || exHi.compareTo(hi) < 0)) hi = exHi;
        if (hi != null && hi.compareTo(LARGEST) < 0) {
            throw new UnsupportedSchemaException(path, m.containsKey("maximum") ? "maximum" : "exclusiveMaximum",
                    "an upper bound below " + LARGEST + " is not supported, got " + hi);
        }
        if (lo == null || lo.compareTo(LARGEST.negate()) <= 0) return integer();
        if (lo.signum() == 0) return natural();
        if (lo.compareTo(BigDecimal.ONE) == 0) return positive();
        throw new UnsupportedSchemaException(path, m.containsKey("minimum") ? "minimum" : "exclusiveMinimum",
                "only 0 or 1 as an integer's lower bound (or none) is supported, got " + lo);
    }

    /** A bound as the smallest/largest integer it allows ({@code shift}: +1 / -1 for an exclusive one). */
    private static BigDecimal bound(Map<String, Object> m, String key, String path, int shift) {
        Object v = m.get(key);
        if (v == null) return null;
        if (!(v instanceof BigDecimal d)) {
            throw new UnsupportedSchemaException(path, key, "'" + key + "' must be a number, got " + Json.write(v));
        }
        java.math.RoundingMode mode = shift > 0 || (shift == 0 && key.startsWith("min"))
                ? java.math.RoundingMode.CEILING : java.math.RoundingMode.FLOOR;
        BigDecimal whole = d.setScale(0, mode);
        if (shift != 0 && whole.compareTo(d) == 0) whole = whole.add(BigDecimal.valueOf(shift));
        return whole;
    }

    private int number() {
        return once("number", () -> {
            int digit = g.bytes('0', '9');
            int frac = g.rule("fraction", of(), seq(g.literal("."), of(digit, upTo("fraction-digits", digit, MAX_DIGITS - 1))));
            int sign = g.rule("sign", of(), g.literal("+"), g.literal("-"));
            int exp = g.rule("exponent", of(), of(g.bytes('e', 'e', 'E', 'E'), sign, digit, upTo("exponent-digits", digit, 2)));
            return g.rule("number", of(integer(), frac, exp));
        });
    }

    private int bool() {
        return once("boolean", () -> g.rule("boolean", g.literal("true"), g.literal("false")));
    }

    private int nul() {
        return once("null", () -> g.rule("null", g.literal("null")));
    }

    // ---- JSON Schema ------------------------------------------------------------------------------------------

    private static String at(String path, String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    /** The rule for the documents {@code schema} (found at {@code path}) accepts. */
    private int node(Object schema, String path) {
        if (Boolean.TRUE.equals(schema)) return value();
        if (Boolean.FALSE.equals(schema)) {
            throw new UnsupportedSchemaException(path, "false", "the schema false admits no document");
        }
        if (!(schema instanceof Map<?, ?> raw)) {
            throw new UnsupportedSchemaException(path, "schema", "a schema must be an object or a boolean, got "
                    + Json.write(schema));
        }
        @SuppressWarnings("unchecked") Map<String, Object> m = (Map<String, Object>) raw;
        for (String k : m.keySet()) {
            if (!ANNOTATIONS.contains(k) && !HANDLED.contains(k)) {
                throw new UnsupportedSchemaException(path, k, "'" + k + "' is not supported (supported: "
                        + String.join(", ", new java.util.TreeSet<>(HANDLED)) + ")");
            }
        }
        if (m.containsKey("$ref")) return ref(m.get("$ref"), path);
        if (m.containsKey("const")) return g.rule("const", g.literal(Json.write(m.get("const"))));
        if (m.containsKey("enum")) {
            if (!(m.get("enum") instanceof List<?> values) || values.isEmpty()) {
                throw new UnsupportedSchemaException(path, "enum", "'enum' must be a non-empty array, got "
                        + Json.write(m.get("enum")));
            }
            int r = g.rule("enum");
            for (Object v : values) g.alt(r, g.literal(Json.write(v)));
            return r;
        }
        if (m.containsKey("anyOf")) {
            for (String k : List.of("type", "properties", "items")) {
                if (m.containsKey(k)) {
                    throw new UnsupportedSchemaException(path, "anyOf", "'anyOf' beside '" + k + "' is not supported");
                }
            }
            if (!(m.get("anyOf") instanceof List<?> subs) || subs.isEmpty()) {
                throw new UnsupportedSchemaException(path, "anyOf", "'anyOf' must be a non-empty array");
            }
            int r = g.rule("anyOf");
            for (int i = 0; i < subs.size(); i++) g.alt(r, node(subs.get(i), at(path, "anyOf." + i)));
            return r;
        }
        Object type = m.get("type");
        if (type instanceof List<?> types) {
            if (types.isEmpty()) throw new UnsupportedSchemaException(path, "type", "'type' is an empty array");
            int r = g.rule("types");
            for (Object t : types) g.alt(r, typed(m, t, path));
            return r;
        }
        if (type == null) {
            if (m.containsKey("properties") || m.containsKey("additionalProperties")) return typed(m, "object", path);
            if (m.containsKey("items")) return typed(m, "array", path);
            return value();
        }
        return typed(m, type, path);
    }

    private int typed(Map<String, Object> m, Object type, String path) {
        if (!(type instanceof String t)) {
            throw new UnsupportedSchemaException(path, "type", "'type' must be a string or an array of strings, got "
                    + Json.write(type));
        }
        return switch (t) {
            case "object" -> objectOf(m, path);
            case "array" -> {
                Object items = m.get("items");
                int item = items == null ? value() : node(items, at(path, "items"));
                yield array(item, count(m, "minItems", path, 0), count(m, "maxItems", path, -1));
            }
            case "string" -> string();
            case "number" -> {
                for (String k : List.of("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")) {
                    if (m.containsKey(k)) {
                        throw new UnsupportedSchemaException(path, k, "'" + k + "' is supported on integers only");
                    }
                }
                yield number();
            }
            case "integer" -> boundedInteger(m, path);
            case "boolean" -> bool();
            case "null" -> nul();
            default -> throw new UnsupportedSchemaException(path, "type", "unknown type '" + t + "'");
        };
    }

    private static int count(Map<String, Object> m, String key, String path, int absent) {
        Object v = m.get(key);
        if (v == null) return absent;
        if (!(v instanceof BigDecimal d) || d.signum() < 0 || d.stripTrailingZeros().scale() > 0
                || d.compareTo(BigDecimal.valueOf(MAX_ITEMS)) > 0) {
            throw new UnsupportedSchemaException(path, key, "'" + key + "' must be an integer 0.." + MAX_ITEMS
                    + ", got " + Json.write(v));
        }
        int n = d.intValue();
        if (key.equals("maxItems") && m.get("minItems") instanceof BigDecimal min && min.intValue() > n) {
            throw new UnsupportedSchemaException(path, key, "'maxItems' " + n + " < 'minItems' " + min);
        }
        return n;
    }

    private int objectOf(Map<String, Object> m, String path) {
        Object props = m.get("properties");
        Object additional = m.get("additionalProperties");
        if (props != null && !(props instanceof Map)) {
            throw new UnsupportedSchemaException(path, "properties", "'properties' must be an object");
        }
        @SuppressWarnings("unchecked") Map<String, Object> properties = props == null ? Map.of() : (Map<String, Object>) props;
        if (properties.isEmpty()) {
            if (additional instanceof Map<?, ?>) return map(node(additional, at(path, "additionalProperties")));
            if (Boolean.FALSE.equals(additional)) return g.rule("empty-object", seq(g.literal("{"), of(ws()), g.literal("}")));
            return object();
        }
        if (additional instanceof Map<?, ?> a && !a.isEmpty()) {
            throw new UnsupportedSchemaException(path, "additionalProperties",
                    "'additionalProperties' with a schema beside 'properties' is not supported; use false");
        }
        Set<String> required = new java.util.HashSet<>();
        Object req = m.get("required");
        if (req != null) {
            if (!(req instanceof List<?> list)) throw new UnsupportedSchemaException(path, "required", "'required' must be an array");
            for (Object r : list) {
                if (!(r instanceof String name) || !properties.containsKey(name)) {
                    throw new UnsupportedSchemaException(path, "required", "'required' names " + Json.write(r)
                            + ", which 'properties' does not define");
                }
                required.add(name);
            }
        }
        List<String> keys = List.copyOf(properties.keySet());
        int[] members = new int[keys.size()];
        for (int i = 0; i < keys.size(); i++) {
            StringBuilder quoted = new StringBuilder();
            Json.quote(keys.get(i), quoted);
            int value = node(properties.get(keys.get(i)), at(path, "properties." + keys.get(i)));
            members[i] = g.rule("member-" + keys.get(i), seq(g.literal(quoted.toString()),
                    of(ws()), g.literal(":"), of(ws(), value, ws())));
        }
        // rest[i][c]: members i.. in order, c = whether one came before (then each starts with ",")
        int[][] rest = new int[keys.size() + 1][2];
        rest[keys.size()][0] = rest[keys.size()][1] = g.rule("members-end", of());
        int comma = g.rule("comma", seq(g.literal(","), of(ws())));
        for (int i = keys.size() - 1; i >= 0; i--) {
            for (int c = 0; c < 2; c++) {
                int[] present = c == 1 ? of(comma, members[i], rest[i + 1][1]) : of(members[i], rest[i + 1][1]);
                rest[i][c] = required.contains(keys.get(i)) ? g.rule("members", present)
                        : g.rule("members", present, of(rest[i + 1][c]));
            }
        }
        return g.rule("object", seq(g.literal("{"), of(ws(), rest[0][0]), g.literal("}")));
    }

    /** A {@code $ref}: {@code #} or {@code #/$defs/Name} / {@code #/definitions/Name}; one rule per target. */
    private int ref(Object ref, String path) {
        if (!(ref instanceof String s)) throw new UnsupportedSchemaException(path, "$ref", "'$ref' must be a string");
        Integer r = refs.get(s);
        if (r != null) return r;
        Object target;
        if (s.equals("#")) {
            target = root;
        } else if (s.startsWith("#/$defs/") || s.startsWith("#/definitions/")) {
            String section = s.startsWith("#/$defs/") ? "$defs" : "definitions";
            String name = s.substring(section.length() + 3).replace("~1", "/").replace("~0", "~");
            target = root instanceof Map<?, ?> rm && rm.get(section) instanceof Map<?, ?> defs ? defs.get(name) : null;
        } else {
            throw new UnsupportedSchemaException(path, "$ref", "only '#', '#/$defs/…' and '#/definitions/…' references"
                    + " are supported, got '" + s + "'");
        }
        if (target == null) throw new UnsupportedSchemaException(path, "$ref", "'$ref' " + s + " points at nothing");
        int rule = g.rule("ref " + s);
        refs.put(s, rule); // before compiling the target: it may refer to itself
        g.alt(rule, node(target, s.substring(Math.min(2, s.length())).replace('/', '.')));
        return rule;
    }
}
