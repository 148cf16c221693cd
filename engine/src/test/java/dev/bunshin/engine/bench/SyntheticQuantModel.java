package dev.bunshin.engine.bench;

import dev.bunshin.engine.gguf.GgmlType;
import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.engine.gguf.GgufKeys;
import dev.bunshin.engine.model.TensorNames;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes a TinyLlama-shaped llama model (22 layers, 2048 wide, 32/4 heads, ffn 5632) with random Q8_0 or Q4_0
 * weights and the stories260K vocabulary, for speed comparisons with llama.cpp. Not a test: run by
 * {@link DecodeBench}. Weights are random bytes with small scales, so outputs are meaningless but finite.
 */
final class SyntheticQuantModel {
    private SyntheticQuantModel() {}

    static void write(Path out, GgmlType type, Path vocabFrom, int nLayers) throws IOException {
        int e = 2048, nHead = 32, nHeadKv = 4, hd = 64, ff = 5632;
        int kv = nHeadKv * hd;
        ByteArrayOutputStream h = new ByteArrayOutputStream();
        List<Object[]> tensors = new ArrayList<>(); // name, type, dims
        String[] tokens;
        float[] scores;
        int[] types;
        try (GgufFile v = GgufFile.open(vocabFrom)) {
            tokens = (String[]) v.get(GgufKeys.TOKENIZER_TOKENS);
            scores = (float[]) v.get(GgufKeys.TOKENIZER_SCORES);
            types = (int[]) v.get(GgufKeys.TOKENIZER_TOKEN_TYPE);
        }
        int nVocab = tokens.length;
        tensors.add(new Object[]{TensorNames.TOKEN_EMBD, GgmlType.F32, new long[]{e, nVocab}});
        for (int il = 0; il < nLayers; il++) {
            tensors.add(new Object[]{TensorNames.attnNorm(il), GgmlType.F32, new long[]{e}});
            tensors.add(new Object[]{TensorNames.attnQ(il), type, new long[]{e, e}});
            tensors.add(new Object[]{TensorNames.attnK(il), type, new long[]{e, kv}});
            tensors.add(new Object[]{TensorNames.attnV(il), type, new long[]{e, kv}});
            tensors.add(new Object[]{TensorNames.attnOut(il), type, new long[]{e, e}});
            tensors.add(new Object[]{TensorNames.ffnNorm(il), GgmlType.F32, new long[]{e}});
            tensors.add(new Object[]{TensorNames.ffnGate(il), type, new long[]{e, ff}});
            tensors.add(new Object[]{TensorNames.ffnUp(il), type, new long[]{e, ff}});
            tensors.add(new Object[]{TensorNames.ffnDown(il), type, new long[]{ff, e}});
        }
        tensors.add(new Object[]{TensorNames.OUTPUT_NORM, GgmlType.F32, new long[]{e}});
        tensors.add(new Object[]{TensorNames.OUTPUT, type, new long[]{e, nVocab}});

        int nKv = 0;
        ByteArrayOutputStream kvs = new ByteArrayOutputStream();
        nKv += str(kvs, "general.architecture", "llama");
        nKv += u32(kvs, "llama.context_length", 2048);
        nKv += u32(kvs, "llama.embedding_length", e);
        nKv += u32(kvs, "llama.block_count", nLayers);
        nKv += u32(kvs, "llama.feed_forward_length", ff);
        nKv += u32(kvs, "llama.attention.head_count", nHead);
        nKv += u32(kvs, "llama.attention.head_count_kv", nHeadKv);
        nKv += u32(kvs, "llama.rope.dimension_count", hd);
        nKv += f32(kvs, "llama.attention.layer_norm_rms_epsilon", 1e-5f);
        nKv += str(kvs, "tokenizer.ggml.model", "llama");
        string(kvs, "tokenizer.ggml.tokens"); le(kvs, 4, 9); le(kvs, 4, 8); le(kvs, 8, nVocab);
        for (String t : tokens) string(kvs, t);
        nKv++;
        string(kvs, "tokenizer.ggml.scores"); le(kvs, 4, 9); le(kvs, 4, 6); le(kvs, 8, nVocab);
        for (float s : scores) le(kvs, 4, Float.floatToIntBits(s));
        nKv++;
        string(kvs, "tokenizer.ggml.token_type"); le(kvs, 4, 9); le(kvs, 4, 5); le(kvs, 8, nVocab);
        for (int t : types) le(kvs, 4, t);
        nKv++;
        nKv += u32(kvs, "tokenizer.ggml.bos_token_id", 1);
        nKv += u32(kvs, "tokenizer.ggml.eos_token_id", 2);

        le(h, 4, 0x46554747);
        le(h, 4, 3);
        le(h, 8, tensors.size());
        le(h, 8, nKv);
        kvs.writeTo(h);
        long off = 0;
        long[] sizes = new long[tensors.size()];
        for (int i = 0; i < tensors.size(); i++) {
            Object[] t = tensors.get(i);
            long[] dims = (long[]) t[2];
            long n = 1;
            for (long d : dims) n *= d;
            sizes[i] = ((GgmlType) t[1]).byteSize(n);
            string(h, (String) t[0]);
            le(h, 4, dims.length);
            for (long d : dims) le(h, 8, d);
            le(h, 4, ((GgmlType) t[1]).id);
            le(h, 8, off);
            off = (off + sizes[i] + 31) / 32 * 32;
        }
        while (h.size() % 32 != 0) h.write(0);
        try (FileChannel ch = FileChannel.open(out, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(h.toByteArray()));
            long seed = 0x9E3779B97F4A7C15L;
            for (int i = 0; i < tensors.size(); i++) {
                GgmlType t = (GgmlType) tensors.get(i)[1];
                long padded = (sizes[i] + 31) / 32 * 32;
                ByteBuffer b = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
                long written = 0;
                while (written < padded) {
                    b.clear();
                    int chunk = (int) Math.min(b.capacity() / t.typeSize * t.typeSize, padded - written);
                    for (int j = 0; j < chunk; ) {
                        if (written + j >= sizes[i]) { b.put((byte) 0); j++; continue; }
                        if (t == GgmlType.F32) {
                            seed = seed * 6364136223846793005L + 1442695040888963407L;
                            b.putFloat(1f + ((seed >>> 40) & 0xFF) / 2560f);
                            j += 4;
                        } else {
                            b.putShort(Float.floatToFloat16(0.002f));
                            for (int q = 2; q < t.typeSize; q++) {
                                seed = seed * 6364136223846793005L + 1442695040888963407L;
                                b.put((byte) (seed >>> 56));
                            }
                            j += t.typeSize;
                        }
                    }
                    b.flip();
                    while (b.hasRemaining()) ch.write(b);
                    written += chunk;
                }
            }
        }
    }

    private static int str(ByteArrayOutputStream o, String k, String v) { string(o, k); le(o, 4, 8); string(o, v); return 1; }
    private static int u32(ByteArrayOutputStream o, String k, long v) { string(o, k); le(o, 4, 4); le(o, 4, v); return 1; }
    private static int f32(ByteArrayOutputStream o, String k, float v) { string(o, k); le(o, 4, 6); le(o, 4, Float.floatToIntBits(v)); return 1; }

    private static void string(ByteArrayOutputStream o, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        le(o, 8, b.length);
        o.writeBytes(b);
    }

    private static void le(ByteArrayOutputStream o, int bytes, long v) {
        for (int i = 0; i < bytes; i++) o.write((int) (v >>> (8 * i)) & 0xFF);
    }
}
