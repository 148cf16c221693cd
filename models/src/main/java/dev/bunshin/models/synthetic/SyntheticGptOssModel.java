package dev.bunshin.models.synthetic;

import dev.bunshin.engine.gguf.GgufKeys;
import dev.bunshin.engine.model.TensorNames;
import dev.bunshin.models.gguf.GgufWriter;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Writes a {@code gpt-oss} GGUF with random weights, in the style of {@link SyntheticMoeModel}: biased q/k/v and
 * output projections, per-head attention sinks, a norm after attention, a router with a bias and biased experts
 * (llama.cpp's {@code SWIGLU_OAI_MOE}), and sliding-window attention on every other layer (llama.cpp's default
 * pattern for gpt-oss) with a window far shorter than the tests' sequences. Our Java engine does not run this
 * architecture; llama.cpp does.
 */
public final class SyntheticGptOssModel {
    private SyntheticGptOssModel() {}

    /** {@code moe} carries the attention shape, experts, vocabulary, mix and seed. */
    public record Spec(SyntheticMoeModel.Spec moe, int slidingWindow) {}

    /** A small model for tests: the qwen3moe test shape (8 heads of 64, 8 experts of 128, 2 used), a window of 4. */
    public static Spec tiny(SyntheticModel.Mix mix, int nLayers) {
        return new Spec(SyntheticMoeModel.tiny(mix, nLayers), 4);
    }

    /** Writes the model; returns the path. */
    public static Path write(Path path, Spec oss) throws IOException {
        SyntheticMoeModel.Spec moe = oss.moe();
        SyntheticModel.Spec spec = moe.base();
        String a = "gpt-oss";
        SyntheticModel.Vocabulary vocab = SyntheticModel.Vocabulary.build(spec.nVocab());
        GgufWriter w = SyntheticModel.header(a, spec)
                .putUint32(GgufKeys.arch(a, GgufKeys.FEED_FORWARD_LENGTH), moe.nFfExp())
                .putUint32(GgufKeys.arch(a, "expert_feed_forward_length"), moe.nFfExp())
                .putUint32(GgufKeys.arch(a, "expert_count"), moe.nExpert())
                .putUint32(GgufKeys.arch(a, "expert_used_count"), moe.nExpertUsed())
                .putUint32(GgufKeys.arch(a, GgufKeys.ROPE_DIMENSION_COUNT), spec.headDim())
                .putUint32(GgufKeys.arch(a, "attention.sliding_window"), oss.slidingWindow())
                .putFloat32(GgufKeys.arch(a, GgufKeys.ROPE_FREQ_BASE), 150000f)
                .putFloat32(GgufKeys.arch(a, GgufKeys.RMS_EPS), 1e-5f);
        SyntheticModel.tokenizer(w, vocab);

        int nE = spec.nEmbd();
        int ff = moe.nFfExp();
        int nX = moe.nExpert();
        SyntheticModel.matrix(w, spec, TensorNames.TOKEN_EMBD, -1, nE, spec.nVocab(), 0.02f, null);
        for (int il = 0; il < spec.nLayers(); il++) {
            String b = "blk." + il + ".";
            SyntheticModel.attention(w, spec, il, true, false);
            SyntheticModel.vector(w, spec, TensorNames.attnOutBias(il), nE);
            SyntheticModel.f32(w, spec, b + "attn_sinks.weight", 0.5f, spec.nHead());
            SyntheticModel.ones(w, b + "post_attention_norm.weight", nE);
            SyntheticMoeModel.router(w, spec, b + "ffn_gate_inp.weight", nE, nX);
            SyntheticModel.f32(w, spec, b + "ffn_gate_inp.bias", 0.02f, nX);
            SyntheticMoeModel.experts(w, spec, b + "ffn_gate_exps.weight", nE, ff, nX);
            SyntheticMoeModel.experts(w, spec, b + "ffn_up_exps.weight", nE, ff, nX);
            SyntheticMoeModel.experts(w, spec, b + "ffn_down_exps.weight", ff, nE, nX);
            SyntheticModel.f32(w, spec, b + "ffn_gate_exps.bias", 0.02f, ff, nX);
            SyntheticModel.f32(w, spec, b + "ffn_up_exps.bias", 0.02f, ff, nX);
            SyntheticModel.f32(w, spec, b + "ffn_down_exps.bias", 0.02f, nE, nX);
        }
        SyntheticModel.ones(w, TensorNames.OUTPUT_NORM, nE);
        SyntheticModel.matrix(w, spec, TensorNames.OUTPUT, -1, nE, spec.nVocab(), (float) (3.0 / Math.sqrt(nE)),
                SyntheticModel.silentRows(vocab));
        w.write(path);
        return path;
    }
}
