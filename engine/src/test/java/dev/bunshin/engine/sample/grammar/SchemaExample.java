package dev.bunshin.engine.sample.grammar;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small document a schema accepts (what a played tail answers with): every property, the first enum value or
 * anyOf branch, one item per array (or minItems), "Tim" for strings, 3 for integers, 1.5 for numbers.
 */
public final class SchemaExample {

    private final Object root;

    private SchemaExample(Object root) {
        this.root = root;
    }

    /** A compact JSON document {@code schema} accepts; for a stored response format, its schema's (or {}). */
    public static String forResponseFormat(String storedFormat) {
        ResponseFormat f = ResponseFormat.parse(storedFormat);
        String doc = f.schema() == null ? "{\"answer\":\"Tim\"}" : Json.write(new SchemaExample(f.schema()).of(f.schema()));
        return f.prefix() + doc + f.suffix();
    }

    @SuppressWarnings("unchecked")
    private Object of(Object schema) {
        if (!(schema instanceof Map<?, ?>)) return Json.NULL;
        Map<String, Object> m = (Map<String, Object>) schema;
        if (m.get("$ref") instanceof String ref) {
            Object target = ref.equals("#") ? root : ((Map<String, Object>) ((Map<String, Object>) root)
                    .get(ref.startsWith("#/$defs/") ? "$defs" : "definitions")).get(ref.substring(ref.lastIndexOf('/') + 1));
            return of(target);
        }
        if (m.containsKey("const")) return m.get("const");
        if (m.get("enum") instanceof List<?> e) return e.getFirst();
        if (m.get("anyOf") instanceof List<?> a) return of(a.getFirst());
        Object type = m.get("type");
        if (type instanceof List<?> types) type = types.getFirst();
        if (type == null) type = m.containsKey("items") ? "array" : "object";
        switch ((String) type) {
            case "string": return "Tim";
            case "integer": return new BigDecimal(3);
            case "number": return new BigDecimal("1.5");
            case "boolean": return Boolean.TRUE;
            case "null": return Json.NULL;
            case "array": {
                int n = m.get("minItems") instanceof BigDecimal min ? Math.max(1, min.intValue()) : 1;
                if (m.get("maxItems") instanceof BigDecimal max) n = Math.min(n, max.intValue());
                List<Object> out = new ArrayList<>();
                for (int i = 0; i < n; i++) out.add(of(m.getOrDefault("items", Map.of("type", "string"))));
                return out;
            }
            default: {
                Map<String, Object> out = new LinkedHashMap<>();
                Map<String, Object> props = (Map<String, Object>) m.getOrDefault("properties", Map.of());
                for (var e : props.entrySet()) out.put(e.getKey(), of(e.getValue()));
                return out;
            }
        }
    }
}
