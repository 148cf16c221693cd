package dev.bunshin.models.plan;

/** The layers cannot be placed on the given nodes; the message names the shortfall. */
public final class PlanException extends IllegalArgumentException {
    public PlanException(String message) {
        super(message);
    }
}
