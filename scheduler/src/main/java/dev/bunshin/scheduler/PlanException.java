package dev.bunshin.scheduler;

/** The live workers cannot hold the model; the message says how much is missing. */
public final class PlanException extends RuntimeException {
    public PlanException(String message) {
        super(message);
    }
}
