package dev.bunshin.models.synthetic;

import dev.bunshin.engine.gguf.GgufKeys;
import dev.bunshin.engine.model.TensorNames;
import dev.bunshin.models.gguf.GgufWriter;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Writes a {@code gemma3} GGUF with random weights, in the style of {@link SyntheticModel}: per-head q/k norms,
 * norms after attention and after the FFN, a GELU-gated FFN, a tied head, token embeddings scaled by
 * {@code sqrt(nEmbd)} in llama.cpp's graph, and sliding-window attention on every layer but each sixth (llama.cpp's
 * default pattern for gemma3) with a window far shorter than the tests' sequences, so a stage that got the pattern
 * wrong changes the tokens. Our Java engine does not run this architecture; llama.cpp does.
 */
public final class SyntheticGemma3Model {
    private SyntheticGemma3Model() {}

    /**
     * The post-norms' weight. With a tied head, a token's own embedding (scaled by {@code sqrt(nEmbd)} on input)
     * would otherwise dominate the last hidden state, and the model would only repeat its input.
     */
    private static final float POST_NORM = 4f;

    /** {@code base} carries the attention shape, FFN, vocabulary, mix and seed (its {@code arch} is ignored). */
    public record Spec(SyntheticModel.Spec base, int slidingWindow) {}

    /** A small model for tests: qwen3's tiny shape (8 heads of 64, 256 wide, FFN 512), a window of 4 positions. */
    public static Spec tiny(SyntheticModel.Mix mix, int nLayers) {
        return new Spec(SyntheticModel.tiny("qwen3", mix).withLayers(nLayers), 4);
    }

    /** Writes the model; returns the path. */
    public static Path write(Path path, Spec gemma) throws IOException {
        SyntheticModel.Spec spec = gemma.base();
        String a = "gemma3";
        SyntheticModel.Vocabulary vocab = SyntheticModel.Vocabulary.build(spec.nVocab());
        GgufWriter w = SyntheticModel.header(a, spec)
                .putUint32(GgufKeys.arch(a, GgufKeys.FEED_FORWARD_LENGTH), spec.nFf())
                .putUint32(GgufKeys.arch(a, "attention.sliding_window"), gemma.slidingWindow())
                .putFloat32(GgufKeys.arch(a, GgufKeys.ROPE_FREQ_BASE), 1000000f)
                .putFloat32(GgufKeys.arch(a, GgufKeys.RMS_EPS), 1e-6f);
        SyntheticModel.tokenizer(w, vocab);

        int nE = spec.nEmbd();
        // Tied: the embedding is also the head, so control and byte tokens get zero rows (never sampled).
        SyntheticModel.matrix(w, spec, TensorNames.TOKEN_EMBD, -1, nE, spec.nVocab(), 0.02f, SyntheticModel.silentRows(vocab));
        for (int il = 0; il < spec.nLayers(); il++) {
            SyntheticModel.attention(w, spec, il, false, true);
            SyntheticModel.constant(w, "blk." + il + ".post_attention_norm.weight", nE, POST_NORM);
            SyntheticModel.ones(w, TensorNames.ffnNorm(il), nE);
            SyntheticModel.matrix(w, spec, TensorNames.ffnGate(il), il, nE, spec.nFf(), 0.02f, null);
            SyntheticModel.matrix(w, spec, TensorNames.ffnUp(il), il, nE, spec.nFf(), 0.02f, null);
            SyntheticModel.matrix(w, spec, TensorNames.ffnDown(il), il, spec.nFf(), nE, 0.02f, null);
            SyntheticModel.constant(w, "blk." + il + ".post_ffw_norm.weight", nE, POST_NORM);
        }
        SyntheticModel.ones(w, TensorNames.OUTPUT_NORM, nE);
        w.write(path);
        return path;
    }
}
