package dev.bunshin.engine;

import dev.bunshin.engine.gguf.GgufFile;

import java.io.IOException;
import java.util.List;

/**
 * Runs one contiguous layer range of a GGUF model over a batch of sequences at different positions
 * (prefill chunks and decode steps mixed in one call). Keeps a KV cache per sequence for its own layers only.
 *
 * <p>CONTRACT (implemented in engine-core): loading touches only this range's tensors, plus the token
 * embedding for the first stage and the output norm/head for the last. Splitting a model into any number of
 * stages gives bit-identical logits.
 */
public final class StageRunner implements AutoCloseable {

    private StageRunner() {}

    /** Loads {@code range} of the model in {@code file}. The file must stay open while the runner is used. */
    public static StageRunner load(GgufFile file, LayerRange range, EngineOptions options) throws IOException {
        throw new UnsupportedOperationException("StageRunner.load: not implemented yet");
    }

    /** What the file says about the model. */
    public ModelConfig config() {
        throw new UnsupportedOperationException("not implemented yet");
    }

    public LayerRange range() {
        throw new UnsupportedOperationException("not implemented yet");
    }

    /**
     * Runs the batch. Each input's positions must continue its sequence: {@code pos} equals the number of
     * positions already cached for that sequence, or less (re-running positions overwrites them, so a
     * redelivered record is harmless). Outputs are in input order.
     *
     * @throws IllegalArgumentException naming the sequence if a position is out of the context or the input
     *                                  is of the wrong kind for this stage
     */
    public List<StageOutput> forward(List<StageInput> batch) {
        throw new UnsupportedOperationException("not implemented yet");
    }

    /** Frees the sequence's KV cache; a no-op if the sequence is unknown. */
    public void free(long seqId) {
        throw new UnsupportedOperationException("not implemented yet");
    }

    /** Number of sequences holding a KV cache. */
    public int sequenceCount() {
        throw new UnsupportedOperationException("not implemented yet");
    }

    @Override
    public void close() {
    }
}
