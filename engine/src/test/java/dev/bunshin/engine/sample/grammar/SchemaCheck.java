package dev.bunshin.engine.sample.grammar;

import java.math.BigDecimal;
import java.util.List;
import java.util.Map;

/**
 * A plain validator of a parsed JSON value against the supported schema subset: the reference a generated document
 * is checked with (the grammar must only ever produce documents this accepts). Returns null if valid, else why not.
 */
public final class SchemaCheck {

    private final Object root;

    private SchemaCheck(Object root) {
        this.root = root;
    }

    /** Why {@code value} does not match {@code schema}, or null if it does. */
    public static String violation(Object schema, Object value) {
        return new SchemaCheck(schema).check(schema, value, "$");
    }

    /** Parses {@code document} and checks it; a parse error is a violation too. */
    public static String violation(Object schema, String document) {
        Object v;
        try {
            v = Json.parse(document);
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
        return violation(schema, v);
    }

    @SuppressWarnings("unchecked")
    private String check(Object schema, Object v, String at) {
        if (Boolean.TRUE.equals(schema)) return null;
        Map<String, Object> m = (Map<String, Object>) schema;
        if (m.get("$ref") instanceof String ref) {
            Object target = ref.equals("#") ? root
                    : ((Map<String, Object>) ((Map<String, Object>) root).get(ref.startsWith("#/$defs/") ? "$defs" : "definitions"))
                    .get(ref.substring(ref.lastIndexOf('/') + 1));
            return check(target, v, at);
        }
        if (m.containsKey("const")) return Json.write(m.get("const")).equals(Json.write(v)) ? null : at + " != const";
        if (m.get("enum") instanceof List<?> e) {
            for (Object x : e) if (Json.write(x).equals(Json.write(v))) return null;
            return at + ": " + Json.write(v) + " not in enum";
        }
        if (m.get("anyOf") instanceof List<?> subs) {
            for (Object s : subs) if (check(s, v, at) == null) return null;
            return at + ": matches no anyOf branch";
        }
        Object type = m.get("type");
        if (type instanceof List<?> types) {
            for (Object t : types) if (typed(m, (String) t, v, at) == null) return null;
            return at + ": none of types " + types;
        }
        if (type == null) {
            if (m.containsKey("properties")) return typed(m, "object", v, at);
            if (m.containsKey("items")) return typed(m, "array", v, at);
            return null;
        }
        return typed(m, (String) type, v, at);
    }

    @SuppressWarnings("unchecked")
    private String typed(Map<String, Object> m, String type, Object v, String at) {
        switch (type) {
            case "string": return v instanceof String ? null : at + " not a string";
            case "boolean": return v instanceof Boolean ? null : at + " not a boolean";
            case "null": return v == Json.NULL ? null : at + " not null";
            case "number": return v instanceof BigDecimal ? null : at + " not a number";
            case "integer":
                return v instanceof BigDecimal d && d.stripTrailingZeros().scale() <= 0 ? null : at + " not an integer";
            case "array": {
                if (!(v instanceof List<?> l)) return at + " not an array";
                if (m.get("minItems") instanceof BigDecimal min && l.size() < min.intValue()) return at + " too few items";
                if (m.get("maxItems") instanceof BigDecimal max && l.size() > max.intValue()) return at + " too many items";
                Object items = m.get("items");
                for (int i = 0; i < l.size() && items != null; i++) {
                    String bad = check(items, l.get(i), at + "[" + i + "]");
                    if (bad != null) return bad;
                }
                return null;
            }
            case "object": {
                if (!(v instanceof Map<?, ?> o)) return at + " not an object";
                Map<String, Object> props = (Map<String, Object>) m.getOrDefault("properties", Map.of());
                for (Object r : (List<Object>) m.getOrDefault("required", List.of())) {
                    if (!o.containsKey(r)) return at + " lacks required " + r;
                }
                Object additional = m.get("additionalProperties");
                for (var e : o.entrySet()) {
                    Object sub = props.get(e.getKey());
                    if (sub == null) {
                        if (Boolean.FALSE.equals(additional)) return at + " has extra property " + e.getKey();
                        if (additional instanceof Map) sub = additional;
                        else continue;
                    }
                    String bad = check(sub, e.getValue(), at + "." + e.getKey());
                    if (bad != null) return bad;
                }
                return null;
            }
            default: throw new IllegalArgumentException("type " + type);
        }
    }
}
