package dev.bunshin.engine;

import java.util.List;

/**
 * What a stage worker runs: one contiguous layer range {@code [a, b)} of a model, over batches of sequences at
 * their own positions (prefill chunks and decode steps mixed in one call), keeping a KV cache per sequence for
 * its own layers only.
 *
 * <p>Two implementations: {@link StageRunner} (our pure-Java engine: exact, batch-invariant, the reference) and the
 * llama.cpp backend (libllama running the same range). Activations cross stages as F32 {@code [nTokens, nEmbd]}
 * rows in either case, so stages of both kinds can follow each other in one plan.
 *
 * <p>Calls are serialised by the caller or by the implementation (one {@link #forward} at a time).
 */
public interface StageBackend extends AutoCloseable {

    /** {@code "java"} or {@code "llama.cpp"}: what {@code --backend} names. */
    String backend();

    /** One line for logs and the {@code workers} row: library path, release, CPU variant or GPU devices. */
    String describe();

    /** The layers this stage runs. */
    LayerRange range();

    /** Layers of the whole model. */
    int nLayers();

    /** Embedding length: the width of one activation row. */
    int nEmbd();

    /** Vocabulary size: the length of the last stage's logits. */
    int nVocab();

    /** Positions a sequence may hold: the configured context, or the model's trained context. */
    int contextLength();

    /**
     * Runs the batch. Each input's positions must continue its sequence: {@code pos} equals the number of
     * positions already cached for that sequence, or less (re-running positions overwrites them and drops the
     * later ones, so a redelivered record is harmless). Outputs are in input order: activations
     * {@code [nTokens, nEmbd]} for a stage that is not last, logits {@code [nVocab]} of each input's last position
     * for the last.
     *
     * @throws IllegalArgumentException naming the sequence if a position is out of the context or the input is of
     *                                  the wrong kind for this stage
     */
    List<StageOutput> forward(List<StageInput> batch);

    /**
     * Whether a last stage gives {@link StageOutput#pooled} only for the inputs that {@link StageInput#pool ask} for
     * it (the caller must then know which do); else it pools every input.
     */
    default boolean poolsOnRequest() {
        return false;
    }

    /** Frees the sequence's KV cache; a no-op if the sequence is unknown. */
    void free(long seqId);

    /** Number of sequences holding a KV cache. */
    int sequenceCount();

    /**
     * Sequences this stage can hold at once, each at the full context: a backend that allocates its KV pool up front
     * within a memory budget may hold fewer than {@link EngineOptions#maxSequences()} (the worker then admits no more
     * jobs than this). {@link Integer#MAX_VALUE}: as many as the options say.
     */
    default int sequenceCapacity() {
        return Integer.MAX_VALUE;
    }

    /** Positions cached for a sequence (0 if unknown). */
    int cachedLength(long seqId);

    /** Bytes this stage holds for KV caches (weights excluded). */
    long kvBytes();

    @Override
    void close();
}
