package dev.bunshin.submitter.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.List;

/**
 * Typed, validated reads of request fields from a JSON object. Every failure is an {@link ApiException} naming
 * the field and showing the value, so a client (or a batch error line) knows exactly what to fix.
 */
public final class Fields {

    private final ObjectNode node;

    private Fields(ObjectNode node) {
        this.node = node;
    }

    public static Fields of(JsonNode node, String what) {
        if (node == null || !node.isObject()) {
            throw ApiException.invalid(null, "invalid_json",
                    what + " must be a JSON object, got " + (node == null ? "nothing" : node.getNodeType().name().toLowerCase()));
        }
        return new Fields((ObjectNode) node);
    }

    /** Parses a request body; malformed JSON is a 400 naming the position. */
    public static Fields parse(ObjectMapper mapper, String body) {
        if (body == null || body.isBlank()) {
            throw ApiException.invalid(null, "invalid_json", "request body is empty; expected a JSON object");
        }
        try {
            return of(mapper.readTree(body), "request body");
        } catch (JsonProcessingException e) {
            throw ApiException.invalid(null, "invalid_json", "malformed JSON: " + e.getOriginalMessage()
                    + (e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr()
                    + " column " + e.getLocation().getColumnNr()));
        }
    }

    public ObjectNode node() {
        return node;
    }

    public boolean has(String name) {
        JsonNode v = node.get(name);
        return v != null && !v.isNull();
    }

    public JsonNode raw(String name) {
        JsonNode v = node.get(name);
        return v == null || v.isNull() ? null : v;
    }

    public String string(String name) {
        JsonNode v = raw(name);
        if (v == null) {
            return null;
        }
        if (!v.isTextual()) {
            throw ApiException.invalid(name, "'" + name + "' must be a string, got " + v);
        }
        return v.asText();
    }

    public String requiredString(String name) {
        String s = string(name);
        if (s == null) {
            throw ApiException.missing(name);
        }
        return s;
    }

    public Boolean bool(String name) {
        JsonNode v = raw(name);
        if (v == null) {
            return null;
        }
        if (!v.isBoolean()) {
            throw ApiException.invalid(name, "'" + name + "' must be true or false, got " + v);
        }
        return v.booleanValue();
    }

    public Integer integer(String name) {
        JsonNode v = raw(name);
        if (v == null) {
            return null;
        }
        if (!v.isIntegralNumber() || !v.canConvertToInt()) {
            if (v.isNumber() && v.asDouble() == Math.rint(v.asDouble()) && Math.abs(v.asDouble()) < Integer.MAX_VALUE) {
                return (int) v.asDouble(); // 16.0 is an integer to every JSON client but Jackson
            }
            throw ApiException.invalid(name, "'" + name + "' must be an integer, got " + v);
        }
        return v.intValue();
    }

    public Long longValue(String name) {
        JsonNode v = raw(name);
        if (v == null) {
            return null;
        }
        if (!v.isIntegralNumber() || !v.canConvertToLong()) {
            throw ApiException.invalid(name, "'" + name + "' must be an integer, got " + v);
        }
        return v.longValue();
    }

    public Double number(String name) {
        JsonNode v = raw(name);
        if (v == null) {
            return null;
        }
        if (!v.isNumber()) {
            throw ApiException.invalid(name, "'" + name + "' must be a number, got " + v);
        }
        return v.doubleValue();
    }

    /** A number within [min, max], or null when absent. */
    public Double number(String name, double min, double max) {
        Double d = number(name);
        if (d != null && !(d >= min && d <= max)) {
            throw ApiException.invalid(name, "'" + name + "' must be between " + fmt(min) + " and " + fmt(max)
                    + ", got " + fmt(d));
        }
        return d;
    }

    /** A string or an array of strings (OpenAI's {@code stop}); null when absent. */
    public List<String> strings(String name) {
        JsonNode v = raw(name);
        if (v == null) {
            return null;
        }
        List<String> out = new ArrayList<>();
        if (v.isTextual()) {
            out.add(v.asText());
        } else if (v.isArray()) {
            for (int i = 0; i < v.size(); i++) {
                if (!v.get(i).isTextual()) {
                    throw ApiException.invalid(name + "[" + i + "]", "'" + name + "[" + i + "]' must be a string, got " + v.get(i));
                }
                out.add(v.get(i).asText());
            }
        } else {
            throw ApiException.invalid(name, "'" + name + "' must be a string or an array of strings, got " + v);
        }
        return out;
    }

    public ObjectNode object(String name) {
        JsonNode v = raw(name);
        if (v == null) {
            return null;
        }
        if (!v.isObject()) {
            throw ApiException.invalid(name, "'" + name + "' must be an object, got " + v);
        }
        return (ObjectNode) v;
    }

    public static String fmt(double d) {
        return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
    }
}
