package dev.bunshin.engine.sample.grammar;

/**
 * A response format the constraint cannot honour: names where in the schema ({@link #path}, e.g.
 * {@code properties.name}) and the keyword it cannot apply ({@link #keyword}, e.g. {@code pattern}), so the API can
 * answer 400 naming the field.
 */
public final class UnsupportedSchemaException extends IllegalArgumentException {

    private final String path;
    private final String keyword;

    public UnsupportedSchemaException(String path, String keyword, String message) {
        super((path.isEmpty() ? "" : path + ": ") + message);
        this.path = path;
        this.keyword = keyword;
    }

    /** Dotted path of the offending keyword from the schema's root (empty: the root itself). */
    public String path() {
        return path;
    }

    /** The keyword refused. */
    public String keyword() {
        return keyword;
    }

    /** {@link #path} and {@link #keyword} joined: the field to name. */
    public String field() {
        return path.isEmpty() ? keyword : path + "." + keyword;
    }
}
