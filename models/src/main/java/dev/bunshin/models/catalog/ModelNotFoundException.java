package dev.bunshin.models.catalog;

/** A model name that resolves to nothing; the message lists what is available. */
public final class ModelNotFoundException extends IllegalArgumentException {
    public ModelNotFoundException(String message) {
        super(message);
    }
}
