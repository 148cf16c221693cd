package dev.bunshin.llama;

/**
 * No usable libllama: none found, another release than the pinned one, or it failed to load. The message names
 * the path and the expected release; a worker asked for the llama.cpp backend stops with it (it never switches
 * backends silently).
 */
public final class LlamaUnavailableException extends RuntimeException {
    public LlamaUnavailableException(String message) {
        super(message);
    }

    public LlamaUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
