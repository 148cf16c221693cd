package dev.bunshin.engine.model;

import dev.bunshin.engine.TestModels;
import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.engine.gguf.GgufKeys;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Random;

/**
 * Small random-weight models of each supported architecture (F32), with the real SentencePiece vocabulary of
 * stories260K so llama.cpp can load them too. Shapes exercise GQA, a head size that differs from
 * nEmbd / nHead (qwen3), biases (qwen2), linear RoPE scaling and rope_freqs (llama variants).
 */
final class TinyModels {
    private TinyModels() {}

    record Spec(String arch, int nLayers, int nEmbd, int nHead, int nHeadKv, int headDim, int nFf, int ropeDim,
                float ropeScale, boolean ropeFreqs, boolean tiedOutput) {}

    static final Spec LLAMA = new Spec("llama", 3, 64, 4, 2, 16, 96, 16, 0f, false, false);
    /** Linear RoPE scaling 2x, per-dimension frequency factors, MQA (one KV head), tied output head. */
    static final Spec LLAMA_SCALED = new Spec("llama", 2, 64, 4, 1, 16, 96, 16, 2f, true, true);
    static final Spec QWEN2 = new Spec("qwen2", 3, 64, 4, 2, 16, 96, 16, 0f, false, false);
    /** Head size 32 with 4 heads: queries are 128 wide while the embedding is 64. */
    static final Spec QWEN3 = new Spec("qwen3", 3, 64, 4, 2, 32, 96, 32, 0f, false, true);

    static Path write(Path dir, Spec s, long seed) throws IOException {
        Random rnd = new Random(seed);
        TinyGgufWriter w = new TinyGgufWriter();
        String a = s.arch();
        int qDim = s.nHead() * s.headDim(), kvDim = s.nHeadKv() * s.headDim();
        w.str(GgufKeys.GENERAL_ARCHITECTURE, a).str(GgufKeys.GENERAL_NAME, "tiny-" + a)
                .u32(a + ".context_length", 256).u32(a + ".embedding_length", s.nEmbd())
                .u32(a + ".block_count", s.nLayers()).u32(a + ".feed_forward_length", s.nFf())
                .u32(a + ".attention.head_count", s.nHead()).u32(a + ".attention.head_count_kv", s.nHeadKv())
                .f32(a + ".attention.layer_norm_rms_epsilon", 1e-6f).f32(a + ".rope.freq_base", 10000f)
                .u32(a + ".rope.dimension_count", s.ropeDim());
        if (s.headDim() != s.nEmbd() / s.nHead()) {
            w.u32(a + ".attention.key_length", s.headDim()).u32(a + ".attention.value_length", s.headDim());
        }
        if (s.ropeScale() != 0f) {
            w.str(a + ".rope.scaling.type", "linear").f32(a + ".rope.scaling.factor", s.ropeScale());
        }
        int nVocab;
        try (GgufFile stories = GgufFile.open(TestModels.stories260K())) {
            String[] tokens = (String[]) stories.get(GgufKeys.TOKENIZER_TOKENS);
            nVocab = tokens.length;
            w.str(GgufKeys.TOKENIZER_MODEL, "llama").strings(GgufKeys.TOKENIZER_TOKENS, tokens)
                    .floats(GgufKeys.TOKENIZER_SCORES, (float[]) stories.get(GgufKeys.TOKENIZER_SCORES))
                    .ints(GgufKeys.TOKENIZER_TOKEN_TYPE, (int[]) stories.get(GgufKeys.TOKENIZER_TOKEN_TYPE))
                    .u32(GgufKeys.TOKENIZER_BOS_ID, 1).u32(GgufKeys.TOKENIZER_EOS_ID, 2).u32(GgufKeys.TOKENIZER_UNK_ID, 0);
        }
        int e = s.nEmbd();
        w.tensor(TensorNames.TOKEN_EMBD, gauss(rnd, nVocab * e, 1f), e, nVocab);
        for (int il = 0; il < s.nLayers(); il++) {
            w.tensor(TensorNames.attnNorm(il), norm(rnd, e), e);
            w.tensor(TensorNames.attnQ(il), gauss(rnd, qDim * e, 1f / (float) Math.sqrt(e)), e, qDim);
            w.tensor(TensorNames.attnK(il), gauss(rnd, kvDim * e, 1f / (float) Math.sqrt(e)), e, kvDim);
            w.tensor(TensorNames.attnV(il), gauss(rnd, kvDim * e, 1f / (float) Math.sqrt(e)), e, kvDim);
            w.tensor(TensorNames.attnOut(il), gauss(rnd, e * qDim, 1f / (float) Math.sqrt(qDim)), qDim, e);
            if (a.equals("qwen2")) {
                w.tensor(TensorNames.attnQBias(il), gauss(rnd, qDim, 0.3f), qDim);
                w.tensor(TensorNames.attnKBias(il), gauss(rnd, kvDim, 0.3f), kvDim);
                w.tensor(TensorNames.attnVBias(il), gauss(rnd, kvDim, 0.3f), kvDim);
            }
            if (a.equals("qwen3")) {
                w.tensor(TensorNames.attnQNorm(il), norm(rnd, s.headDim()), s.headDim());
                w.tensor(TensorNames.attnKNorm(il), norm(rnd, s.headDim()), s.headDim());
            }
            w.tensor(TensorNames.ffnNorm(il), norm(rnd, e), e);
            w.tensor(TensorNames.ffnGate(il), gauss(rnd, s.nFf() * e, 1f / (float) Math.sqrt(e)), e, s.nFf());
            w.tensor(TensorNames.ffnUp(il), gauss(rnd, s.nFf() * e, 1f / (float) Math.sqrt(e)), e, s.nFf());
            w.tensor(TensorNames.ffnDown(il), gauss(rnd, e * s.nFf(), 1f / (float) Math.sqrt(s.nFf())), s.nFf(), e);
        }
        w.tensor(TensorNames.OUTPUT_NORM, norm(rnd, e), e);
        if (!s.tiedOutput()) {
            w.tensor(TensorNames.OUTPUT, gauss(rnd, nVocab * e, 3f / (float) Math.sqrt(e)), e, nVocab);
        }
        if (s.ropeFreqs()) {
            float[] ff = new float[s.ropeDim() / 2];
            for (int i = 0; i < ff.length; i++) ff[i] = 1f + i * 0.75f;
            w.tensor(TensorNames.ROPE_FREQS, ff, ff.length);
        }
        Path p = dir.resolve("tiny-" + a + "-" + seed + ".gguf");
        w.write(p);
        return p;
    }

    private static float[] gauss(Random rnd, int n, float std) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) rnd.nextGaussian() * std;
        return v;
    }

    private static float[] norm(Random rnd, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = 1f + (float) rnd.nextGaussian() * 0.2f;
        return v;
    }
}
