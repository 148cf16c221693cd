package dev.bunshin.models.synthetic;

import dev.bunshin.engine.gguf.GgmlType;
import dev.bunshin.engine.model.TensorNames;
import dev.bunshin.engine.gguf.GgufKeys;
import dev.bunshin.models.gguf.GgufWriter;
import dev.bunshin.models.gguf.Quantizer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.stream.IntStream;

/**
 * Writes a {@code qwen3moe} GGUF with random weights, in the style of {@link SyntheticModel} (same vocabulary,
 * same weight statistics, same type mixes): Qwen3 attention (per-head q/k norms) and a mixture-of-experts FFN per
 * layer — a router {@code ffn_gate_inp [nExpert, nEmbd]} and stacked experts {@code ffn_{gate,up}_exps
 * [nExpert, nFfExp, nEmbd]}, {@code ffn_down_exps [nExpert, nEmbd, nFfExp]}, {@code nExpertUsed} of them per token.
 * Our Java engine does not run this architecture; llama.cpp does (the llama.cpp backend's tests use it).
 */
public final class SyntheticMoeModel {
    private SyntheticMoeModel() {}

    /**
     * Shape of a synthetic qwen3moe model; {@code base} carries the attention shape, vocabulary, mix and seed
     * (its {@code arch} is ignored, its {@code nFf} is unused).
     */
    public record Spec(SyntheticModel.Spec base, int nExpert, int nExpertUsed, int nFfExp) {
        public Spec {
            if (nExpert < 1 || nExpertUsed < 1 || nExpertUsed > nExpert || nFfExp < 1) {
                throw new IllegalArgumentException("bad experts: " + nExpertUsed + " of " + nExpert + ", nFfExp " + nFfExp);
            }
        }
    }

    /** A small model for tests: qwen3's tiny shape (8 heads of 64, 256 wide), 8 experts of 128, 2 per token. */
    public static Spec tiny(SyntheticModel.Mix mix, int nLayers) {
        return new Spec(SyntheticModel.tiny("qwen3", mix).withLayers(nLayers), 8, 2, 128);
    }

    /** Writes the model; returns the path. */
    public static Path write(Path path, Spec moe) throws IOException {
        SyntheticModel.Spec spec = moe.base();
        String a = "qwen3moe";
        SyntheticModel.Vocabulary vocab = SyntheticModel.Vocabulary.build(spec.nVocab());
        GgufWriter w = SyntheticModel.header(a, spec)
                .putUint32(GgufKeys.arch(a, GgufKeys.FEED_FORWARD_LENGTH), moe.nFfExp() * moe.nExpertUsed())
                .putUint32(GgufKeys.arch(a, "expert_feed_forward_length"), moe.nFfExp())
                .putUint32(GgufKeys.arch(a, "expert_count"), moe.nExpert())
                .putUint32(GgufKeys.arch(a, "expert_used_count"), moe.nExpertUsed())
                .putUint32(GgufKeys.arch(a, GgufKeys.ROPE_DIMENSION_COUNT), spec.headDim())
                .putFloat32(GgufKeys.arch(a, GgufKeys.ROPE_FREQ_BASE), 1000000f)
                .putFloat32(GgufKeys.arch(a, GgufKeys.RMS_EPS), 1e-6f);
        SyntheticModel.tokenizer(w, vocab);

        int nE = spec.nEmbd();
        SyntheticModel.matrix(w, spec, TensorNames.TOKEN_EMBD, -1, nE, spec.nVocab(), 0.02f, null);
        for (int il = 0; il < spec.nLayers(); il++) {
            SyntheticModel.attention(w, spec, il, false, true);
            SyntheticModel.ones(w, TensorNames.ffnNorm(il), nE);
            // The router in F32, as llama.cpp's quantizer keeps it: its scores pick the experts.
            router(w, spec, "blk." + il + ".ffn_gate_inp.weight", nE, moe.nExpert());
            experts(w, spec, "blk." + il + ".ffn_gate_exps.weight", nE, moe.nFfExp(), moe.nExpert());
            experts(w, spec, "blk." + il + ".ffn_up_exps.weight", nE, moe.nFfExp(), moe.nExpert());
            experts(w, spec, "blk." + il + ".ffn_down_exps.weight", moe.nFfExp(), nE, moe.nExpert());
        }
        SyntheticModel.ones(w, TensorNames.OUTPUT_NORM, nE);
        SyntheticModel.matrix(w, spec, TensorNames.OUTPUT, -1, nE, spec.nVocab(), (float) (3.0 / Math.sqrt(nE)),
                SyntheticModel.silentRows(vocab));
        w.write(path);
        return path;
    }

    static void router(GgufWriter w, SyntheticModel.Spec spec, String name, int cols, int rows) {
        SyntheticModel.f32(w, spec, name, 0.5f, cols, rows);
    }

    /** Stacked expert matrices, dims {cols, rows, nExpert}, in the mix's type for 2-D tensors. */
    static void experts(GgufWriter w, SyntheticModel.Spec spec, String name, int cols, int rows, int nExpert) {
        GgmlType type = SyntheticModel.typeOf(spec, name, -1, cols);
        w.addTensor(name, type, new long[]{cols, rows, nExpert}, () -> {
            long matBytes = type.byteSize((long) cols * rows);
            byte[] out = new byte[Math.toIntExact(matBytes * nExpert)];
            IntStream.range(0, nExpert).parallel().forEach(x -> {
                float[] v = new float[cols * rows];
                SyntheticModel.fill(v, 0, v.length, SyntheticModel.seed(spec, name, x), 0.02f);
                byte[] b = Quantizer.quantize(type, v, cols);
                System.arraycopy(b, 0, out, Math.toIntExact(x * matBytes), b.length);
            });
            return out;
        });
    }
}
