package dev.bunshin.models.synthetic;

import dev.bunshin.engine.model.TensorNames;
import dev.bunshin.engine.gguf.GgmlType;
import dev.bunshin.engine.gguf.GgufKeys;
import dev.bunshin.models.gguf.GgufWriter;
import dev.bunshin.models.gguf.GgufWriter.ValueType;
import dev.bunshin.models.gguf.Quantizer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * Writes a GGUF model with random weights that llama.cpp and our engine both load: architecture llama, qwen2 or
 * qwen3, any shape, tensors in one of llama.cpp's type mixes, and a self-contained SentencePiece-style vocabulary
 * ({@code tokenizer.ggml.model = llama}: control tokens, 256 byte-fallback tokens, ASCII pieces and English words).
 * Used where no real model is at hand: the launcher's default model, benchmarks (≈1 GB), and tests against
 * llama.cpp for every tensor type.
 *
 * <p>Weights are N(0, 0.02)-like, norms 1, so activations stay finite; the output head is wider (logit spread ≈ 3)
 * so that greedy picks are clear rather than near-ties. The output rows of control and byte tokens are zero:
 * their logit is exactly 0 and never the maximum, so generation neither stops at EOS nor emits lone bytes of
 * broken UTF-8 (comparisons then run for as many tokens as asked and compare clean text).
 *
 * <p>Run: {@code java --add-modules jdk.incubator.vector -cp engine.jar dev.bunshin.models.synthetic.SyntheticModel
 * out.gguf [tinyllama|tiny-llama|tiny-qwen2|tiny-qwen3] [F32|Q8_0|Q4_0|Q4_K_M|...]}.
 */
public final class SyntheticModel {
    private SyntheticModel() {}

    /** Tensor type mixes, named after llama.cpp's file types. Norms and biases are always F32. */
    public enum Mix {
        ALL_F32(0, GgmlType.F32), F16(1, GgmlType.F16), BF16(32, GgmlType.BF16), Q8_0(7, GgmlType.Q8_0),
        Q4_0(2, GgmlType.Q4_0), Q4_1(3, GgmlType.Q4_1), Q5_0(8, GgmlType.Q5_0), Q5_1(9, GgmlType.Q5_1),
        Q2_K(10, GgmlType.Q2_K), Q3_K(11, GgmlType.Q3_K), Q4_K(14, GgmlType.Q4_K), Q5_K(16, GgmlType.Q5_K),
        Q6_K(18, GgmlType.Q6_K),
        /** llama.cpp's Q4_K_M: Q4_K, but Q6_K for the output and for attn_v and ffn_down of some layers. */
        Q4_K_M(15, GgmlType.Q4_K);

        /** {@code general.file_type} (llama_ftype). */
        public final int fileType;
        /** The type of most 2-D tensors. */
        public final GgmlType base;

        Mix(int fileType, GgmlType base) {
            this.fileType = fileType;
            this.base = base;
        }
    }

    /**
     * Shape and content of a synthetic model.
     *
     * @param arch          llama, qwen2 or qwen3
     * @param headDim       size of one attention head; 0 means nEmbd / nHead
     * @param contextLength the model's {@code context_length}
     * @param seed          the same spec and seed give the same bytes
     */
    public record Spec(String arch, int nLayers, int nEmbd, int nHead, int nHeadKv, int headDim, int nFf, int nVocab,
                       int contextLength, Mix mix, long seed) {
        public Spec {
            Objects.requireNonNull(arch, "arch == null");
            Objects.requireNonNull(mix, "mix == null");
            if (!List.of("llama", "qwen2", "qwen3").contains(arch)) {
                throw new IllegalArgumentException("architecture " + arch + " (supported: llama, qwen2, qwen3)");
            }
            if (nLayers < 1 || nEmbd < 1 || nHead < 1 || nHeadKv < 1 || nHead % nHeadKv != 0 || nFf < 1 || contextLength < 1) {
                throw new IllegalArgumentException("bad shape: " + nLayers + " layers, nEmbd " + nEmbd + ", nHead " + nHead
                        + ", nHeadKv " + nHeadKv + ", nFf " + nFf + ", context " + contextLength);
            }
            if (headDim == 0) {
                if (nEmbd % nHead != 0) {
                    throw new IllegalArgumentException("nEmbd " + nEmbd + " is not a multiple of nHead " + nHead);
                }
                headDim = nEmbd / nHead;
            }
            if (headDim % 2 != 0) {
                throw new IllegalArgumentException("headDim " + headDim + " is odd (RoPE rotates pairs)");
            }
            if (nVocab < Vocabulary.MIN_SIZE) {
                throw new IllegalArgumentException("nVocab " + nVocab + " < " + Vocabulary.MIN_SIZE);
            }
        }

        public Spec withLayers(int n) {
            return new Spec(arch, n, nEmbd, nHead, nHeadKv, headDim, nFf, nVocab, contextLength, mix, seed);
        }

        public Spec withSeed(long s) {
            return new Spec(arch, nLayers, nEmbd, nHead, nHeadKv, headDim, nFf, nVocab, contextLength, mix, s);
        }

        /** Parameters (weights) in all. */
        public long parameterCount() {
            long q = (long) nHead * headDim;
            long kv = (long) nHeadKv * headDim;
            long layer = nEmbd * (q + 2 * kv) + q * nEmbd + 3L * nEmbd * nFf + 2L * nEmbd;
            return 2L * nVocab * nEmbd + nEmbd + nLayers * layer;
        }
    }

    /** TinyLlama 1.1B's shapes (22 layers, 2048 wide, 32 heads, 4 KV heads, FFN 5632, vocabulary 32000). */
    public static Spec tinyLlama1B(Mix mix) {
        return new Spec("llama", 22, 2048, 32, 4, 0, 5632, 32000, 2048, mix, 42);
    }

    /**
     * A small model for tests: 2 layers, 256 wide, FFN 512, vocabulary 512. qwen3 gets 8 heads of 64 (its head
     * size is not nEmbd / nHead, as in real Qwen3 models).
     */
    public static Spec tiny(String arch, Mix mix) {
        return arch.equals("qwen3")
                ? new Spec(arch, 2, 256, 8, 2, 64, 512, 512, 512, mix, 7)
                : new Spec(arch, 2, 256, 4, 2, 0, 512, 512, 512, mix, 7);
    }

    /** llama.cpp's {@code use_more_bits}: the first and last eighth of the layers and every third in between. */
    static boolean useMoreBits(int il, int nLayers) {
        return il < nLayers / 8 || il >= 7 * nLayers / 8 || (il - nLayers / 8) % 3 == 2;
    }

    /** The type of a 2-D tensor under the spec's mix, falling back where rows do not fill whole blocks. */
    static GgmlType typeOf(Spec spec, String name, int il, long cols) {
        GgmlType t = spec.mix.base;
        if (spec.mix == Mix.Q4_K_M) {
            if (name.equals(TensorNames.OUTPUT)) {
                t = GgmlType.Q6_K;
            } else if ((name.endsWith("attn_v.weight") || name.endsWith("ffn_down.weight")) && useMoreBits(il, spec.nLayers)) {
                t = GgmlType.Q6_K;
            }
        }
        if (cols % t.blockSize != 0) {
            t = cols % 32 == 0 ? GgmlType.Q8_0 : GgmlType.F32; // as llama.cpp, a fallback for odd widths
        }
        return t;
    }

    /** Writes the model; returns the path. */
    public static Path write(Path path, Spec spec) throws IOException {
        String a = spec.arch;
        Vocabulary vocab = Vocabulary.build(spec.nVocab);
        GgufWriter w = header(a, spec)
                .putUint32(GgufKeys.arch(a, GgufKeys.FEED_FORWARD_LENGTH), spec.nFf)
                .putUint32(GgufKeys.arch(a, GgufKeys.ROPE_DIMENSION_COUNT), spec.headDim)
                .putFloat32(GgufKeys.arch(a, GgufKeys.ROPE_FREQ_BASE), a.equals("llama") ? 10000f : 1000000f)
                .putFloat32(GgufKeys.arch(a, GgufKeys.RMS_EPS), a.equals("llama") ? 1e-5f : 1e-6f);
        tokenizer(w, vocab);

        int nE = spec.nEmbd;
        matrix(w, spec, TensorNames.TOKEN_EMBD, -1, nE, spec.nVocab, 0.02f, null);
        for (int il = 0; il < spec.nLayers; il++) {
            attention(w, spec, il, a.equals("qwen2"), a.equals("qwen3"));
            ones(w, TensorNames.ffnNorm(il), nE);
            matrix(w, spec, TensorNames.ffnGate(il), il, nE, spec.nFf, 0.02f, null);
            matrix(w, spec, TensorNames.ffnUp(il), il, nE, spec.nFf, 0.02f, null);
            matrix(w, spec, TensorNames.ffnDown(il), il, spec.nFf, nE, 0.02f, null);
        }
        ones(w, TensorNames.OUTPUT_NORM, nE);
        matrix(w, spec, TensorNames.OUTPUT, -1, nE, spec.nVocab, (float) (3.0 / Math.sqrt(nE)), silentRows(vocab));
        w.write(path);
        return path;
    }

    /**
     * The keys every synthetic model of {@code arch} starts with: name, file type, context, width, layers, heads,
     * key and value widths, vocabulary size. The caller adds its architecture's own.
     */
    static GgufWriter header(String arch, Spec spec) {
        return new GgufWriter()
                .putString(GgufKeys.GENERAL_ARCHITECTURE, arch)
                .putString(GgufKeys.GENERAL_NAME, "bunshin-synthetic-" + arch + "-" + spec.nLayers + "L-" + spec.nEmbd
                        + "-" + spec.mix.name().toLowerCase(Locale.ROOT))
                .putUint32(GgufKeys.GENERAL_FILE_TYPE, spec.mix.fileType)
                .putUint32(GgufKeys.GENERAL_ALIGNMENT, 32)
                .putUint32(GgufKeys.arch(arch, GgufKeys.CONTEXT_LENGTH), spec.contextLength)
                .putUint32(GgufKeys.arch(arch, GgufKeys.EMBEDDING_LENGTH), spec.nEmbd)
                .putUint32(GgufKeys.arch(arch, GgufKeys.BLOCK_COUNT), spec.nLayers)
                .putUint32(GgufKeys.arch(arch, GgufKeys.HEAD_COUNT), spec.nHead)
                .putUint32(GgufKeys.arch(arch, GgufKeys.HEAD_COUNT_KV), spec.nHeadKv)
                .putUint32(GgufKeys.arch(arch, GgufKeys.KEY_LENGTH), spec.headDim)
                .putUint32(GgufKeys.arch(arch, GgufKeys.VALUE_LENGTH), spec.headDim)
                .putUint32(GgufKeys.arch(arch, GgufKeys.VOCAB_SIZE), spec.nVocab);
    }

    /** The vocabulary's keys: a SentencePiece ("llama") tokenizer that adds BOS. */
    static GgufWriter tokenizer(GgufWriter w, Vocabulary vocab) {
        return w.putString(GgufKeys.TOKENIZER_MODEL, "llama")
                .putArray(GgufKeys.TOKENIZER_TOKENS, ValueType.STRING, vocab.tokens)
                .putArray(GgufKeys.TOKENIZER_SCORES, ValueType.FLOAT32, vocab.scores)
                .putArray(GgufKeys.TOKENIZER_TOKEN_TYPE, ValueType.INT32, vocab.types)
                .putUint32(GgufKeys.TOKENIZER_UNK_ID, Vocabulary.UNK)
                .putUint32(GgufKeys.TOKENIZER_BOS_ID, Vocabulary.BOS)
                .putUint32(GgufKeys.TOKENIZER_EOS_ID, Vocabulary.EOS)
                .putBool(GgufKeys.TOKENIZER_ADD_BOS, true)
                .putBool(GgufKeys.TOKENIZER_ADD_EOS, false);
    }

    /** The output head's rows for control and byte tokens are 0, so random weights never pick them. */
    static boolean[] silentRows(Vocabulary vocab) {
        boolean[] silent = new boolean[vocab.types.length];
        for (int id = 0; id < silent.length; id++) silent[id] = vocab.types[id] != Vocabulary.NORMAL;
        return silent;
    }

    /**
     * Layer {@code il}'s attention: its norm, q/k/v (with biases if asked), per-head q/k norms (if asked) and the
     * output projection.
     */
    static void attention(GgufWriter w, Spec spec, int il, boolean qkvBiases, boolean qkNorms) {
        int nE = spec.nEmbd;
        int q = spec.nHead * spec.headDim;
        int kv = spec.nHeadKv * spec.headDim;
        ones(w, TensorNames.attnNorm(il), nE);
        matrix(w, spec, TensorNames.attnQ(il), il, nE, q, 0.02f, null);
        matrix(w, spec, TensorNames.attnK(il), il, nE, kv, 0.02f, null);
        matrix(w, spec, TensorNames.attnV(il), il, nE, kv, 0.02f, null);
        if (qkvBiases) {
            vector(w, spec, TensorNames.attnQBias(il), q);
            vector(w, spec, TensorNames.attnKBias(il), kv);
            vector(w, spec, TensorNames.attnVBias(il), kv);
        }
        if (qkNorms) {
            ones(w, TensorNames.attnQNorm(il), spec.headDim);
            ones(w, TensorNames.attnKNorm(il), spec.headDim);
        }
        matrix(w, spec, TensorNames.attnOut(il), il, q, nE, 0.02f, null);
    }

    static void ones(GgufWriter w, String name, int n) {
        constant(w, name, n, 1f);
    }

    static void constant(GgufWriter w, String name, int n, float value) {
        float[] v = new float[n];
        java.util.Arrays.fill(v, value);
        w.addTensor(name, GgmlType.F32, new long[] {n}, Quantizer.quantize(GgmlType.F32, v, n));
    }

    static void vector(GgufWriter w, Spec spec, String name, int n) {
        f32(w, spec, name, 0.02f, n);
    }

    /** A random F32 tensor of {@code dims} (innermost first). */
    static void f32(GgufWriter w, Spec spec, String name, float std, long... dims) {
        long n = 1;
        for (long d : dims) n *= d;
        float[] v = new float[Math.toIntExact(n)];
        fill(v, 0, v.length, seed(spec, name, 0), std);
        w.addTensor(name, GgmlType.F32, dims, Quantizer.quantize(GgmlType.F32, v, (int) dims[0]));
    }

    /**
     * A random matrix W [rows, cols], generated and quantized in parallel chunks of rows when the writer asks
     * for it (one tensor in memory at a time). Rows flagged in {@code zeroRows} are 0.
     */
    static void matrix(GgufWriter w, Spec spec, String name, int il, int cols, int rows, float std, boolean[] zeroRows) {
        GgmlType type = typeOf(spec, name, il, cols);
        w.addTensor(name, type, new long[] {cols, rows}, () -> {
            long rowBytes = type.byteSize(cols);
            byte[] out = new byte[Math.toIntExact(rowBytes * rows)];
            int chunkRows = Math.max(1, (1 << 16) / cols);
            int chunks = Math.ceilDiv(rows, chunkRows);
            IntStream.range(0, chunks).parallel().forEach(c -> {
                int r0 = c * chunkRows;
                int r1 = Math.min(rows, r0 + chunkRows);
                float[] v = new float[(r1 - r0) * cols];
                fill(v, 0, v.length, seed(spec, name, c), std);
                if (zeroRows != null) {
                    for (int r = r0; r < r1; r++) {
                        if (zeroRows[r]) {
                            java.util.Arrays.fill(v, (r - r0) * cols, (r - r0 + 1) * cols, 0f);
                        }
                    }
                }
                byte[] b = Quantizer.quantize(type, v, cols);
                System.arraycopy(b, 0, out, Math.toIntExact(r0 * rowBytes), b.length);
            });
            return out;
        });
    }

    static long seed(Spec spec, String name, int chunk) {
        return spec.seed * 0x9E3779B97F4A7C15L + name.hashCode() * 0xC2B2AE3D27D4EB4FL + chunk;
    }

    /** Approximately normal values (Irwin–Hall of 4 uniforms, rescaled): fast, and bounded by ±3.5·std. */
    static void fill(float[] v, int from, int to, long seed, float std) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float k = (float) Math.sqrt(3.0) * std;
        for (int i = from; i < to; i++) {
            double s = rnd.nextDouble() + rnd.nextDouble() + rnd.nextDouble() + rnd.nextDouble() - 2.0;
            v[i] = (float) s * k;
        }
    }

    /** A SentencePiece-style vocabulary (llama tokenizer) of exactly the requested size. */
    static final class Vocabulary {
        static final int UNK = 0;
        static final int BOS = 1;
        static final int EOS = 2;
        static final int NORMAL = 1;
        static final int UNKNOWN = 2;
        static final int CONTROL = 3;
        static final int BYTE = 6;
        static final int MIN_SIZE = 3 + 256 + 1 + 94;
        private static final String SPACE = "\u2581";
        private static final String WORDS = "the of and to in is was he for it with as his on be at by had are but"
                + " from or have an they which one you were her all she there would their we him been has when who will"
                + " more no if out so said what up its about into than them can only other new some could time these two"
                + " may then do first any my now such like our over man me even most made after also did many before"
                + " must through back years where much your way well down should because each just those people how too"
                + " little state good very make world still own see men work long get here between both life being under"
                + " never day same another know while last might us great old year off come since against go came right"
                + " used take three once upon a time there lived girl boy named lily tom play park ball happy sad big small"
                + " red blue green dog cat sun tree house friend mom dad saw wanted said loved look find";

        final String[] tokens;
        final float[] scores;
        final int[] types;

        private Vocabulary(String[] tokens, float[] scores, int[] types) {
            this.tokens = tokens;
            this.scores = scores;
            this.types = types;
        }

        static Vocabulary build(int n) {
            Set<String> normal = new LinkedHashSet<>();
            normal.add(SPACE);
            for (char c = 0x21; c < 0x7F; c++) {
                normal.add(String.valueOf(c));
            }
            for (char c = 'a'; c <= 'z'; c++) {
                normal.add(SPACE + c);
            }
            // Every prefix of a word is a piece too, so SentencePiece's pairwise merges can reach the word.
            for (String word : WORDS.split(" ")) {
                for (int k = 2; k <= word.length(); k++) {
                    normal.add(SPACE + word.substring(0, k));
                    normal.add(word.substring(0, k));
                }
            }
            String letters = "etaoinshrdlcumwfgypbvkjxqz";
            outer:
            for (int len = 2; len <= 4; len++) {
                int[] idx = new int[len];
                while (true) {
                    StringBuilder sb = new StringBuilder();
                    for (int i : idx) {
                        sb.append(letters.charAt(i));
                    }
                    String s = sb.toString();
                    if (normal.size() + 259 >= n) {
                        break outer;
                    }
                    normal.add(s);
                    normal.add(SPACE + s);
                    int p = len - 1;
                    while (p >= 0 && ++idx[p] == letters.length()) {
                        idx[p--] = 0;
                    }
                    if (p < 0) {
                        break;
                    }
                }
            }
            List<String> list = new ArrayList<>(List.of("<unk>", "<s>", "</s>"));
            for (int b = 0; b < 256; b++) {
                list.add(String.format("<0x%02X>", b));
            }
            for (String s : normal) {
                if (list.size() == n) {
                    break;
                }
                list.add(s);
            }
            if (list.size() != n) {
                throw new IllegalArgumentException("cannot build a vocabulary of " + n + " tokens (got " + list.size() + ")");
            }
            String[] tokens = list.toArray(String[]::new);
            float[] scores = new float[n];
            int[] types = new int[n];
            types[UNK] = UNKNOWN;
            types[BOS] = CONTROL;
            types[EOS] = CONTROL;
            for (int i = 3; i < 259; i++) {
                types[i] = BYTE;
            }
            for (int i = 259; i < n; i++) {
                types[i] = NORMAL;
                // Longer pieces score higher, so merges prefer them (SentencePiece merges by score).
                scores[i] = tokens[i].length() * 100f - i * 1e-3f;
            }
            return new Vocabulary(tokens, scores, types);
        }
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 1) {
            System.err.println("usage: SyntheticModel out.gguf [tinyllama|tiny-llama|tiny-qwen2|tiny-qwen3] [" + List.of(Mix.values()) + "]");
            System.exit(2);
        }
        String preset = args.length > 1 ? args[1] : "tinyllama";
        Mix mix = args.length > 2 ? Mix.valueOf(args[2]) : Mix.Q8_0;
        Spec spec = switch (preset) {
            case "tinyllama" -> tinyLlama1B(mix);
            case "tiny-llama" -> tiny("llama", mix);
            case "tiny-qwen2" -> tiny("qwen2", mix);
            case "tiny-qwen3" -> tiny("qwen3", mix);
            default -> throw new IllegalArgumentException("unknown preset " + preset);
        };
        long t0 = System.nanoTime();
        write(Path.of(args[0]), spec);
        System.out.printf("wrote %s: %s, %,d parameters, %.1f s%n", args[0], spec, spec.parameterCount(),
                (System.nanoTime() - t0) / 1e9);
    }
}
