package dev.bunshin.submitter.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
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

    /** Parses a request body strictly ({@link StrictJson}); anything but one JSON object is a 400. */
    public static Fields parse(ObjectMapper mapper, byte[] body) {
        if (body == null || body.length == 0) {
            throw ApiException.invalid(null, "invalid_json", "request body is empty; expected a JSON object");
        }
        return of(StrictJson.read(mapper, body, "request body"), "request body");
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

    /** An array, or null when absent. */
    public ArrayNode array(String name) {
        JsonNode v = raw(name);
        if (v == null) {
            return null;
        }
        if (!v.isArray()) {
            throw ApiException.invalid(name, "'" + name + "' must be an array, got " + v);
        }
        return (ArrayNode) v;
    }

    /** A string or a number (Ollama's {@code keep_alive}: "5m" or seconds), or null when absent. */
    public JsonNode stringOrNumber(String name) {
        JsonNode v = raw(name);
        if (v != null && !v.isTextual() && !v.isNumber()) {
            throw ApiException.invalid(name, "'" + name + "' must be a string or a number, got " + v);
        }
        return v;
    }

    /**
     * Refuses a feature the API does not implement, by name, when the request turns it on: an array or object
     * that is not empty, or a string that is not empty (after the field's type was checked by the caller).
     */
    public void unsupportedUnlessEmpty(String name, String what) {
        JsonNode v = raw(name);
        boolean empty = v == null || (v.isContainerNode() && v.isEmpty()) || (v.isTextual() && v.asText().isEmpty());
        if (!empty) {
            throw ApiException.invalid(name, "unsupported_parameter", "'" + name + "' (" + what + ") is not supported");
        }
    }

    public static String fmt(double d) {
        return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
    }
}
