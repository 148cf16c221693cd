package dev.bunshin.engine;

/**
 * Run settings chosen by the caller (as opposed to {@link ModelConfig}, which is what the file says).
 *
 * @param threads       worker threads for matrix kernels (≥ 1)
 * @param contextLength maximum positions per sequence; 0 means the model's own context length
 * @param maxSequences  maximum sequences with a live KV cache at once
 */
public record EngineOptions(int threads, int contextLength, int maxSequences) {
    public EngineOptions {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        if (contextLength < 0) throw new IllegalArgumentException("contextLength must be >= 0, got " + contextLength);
        if (maxSequences < 1) throw new IllegalArgumentException("maxSequences must be >= 1, got " + maxSequences);
    }

    public static EngineOptions defaults() {
        return new EngineOptions(Math.max(1, Runtime.getRuntime().availableProcessors()), 0, 64);
    }

    public EngineOptions withThreads(int t) {
        return new EngineOptions(t, contextLength, maxSequences);
    }

    public EngineOptions withContextLength(int c) {
        return new EngineOptions(threads, c, maxSequences);
    }

    public EngineOptions withMaxSequences(int m) {
        return new EngineOptions(threads, contextLength, m);
    }
}
