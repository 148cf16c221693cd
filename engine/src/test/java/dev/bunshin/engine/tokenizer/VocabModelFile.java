package dev.bunshin.engine.tokenizer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a tiny one-layer llama model (all weights zero) around a given vocabulary, so that llama.cpp can load it
 * and tokenize with that vocabulary and any {@code tokenizer.ggml.pre}: a vocabulary-only GGUF cannot be loaded
 * through de.kherud:llama.
 */
final class VocabModelFile {
    private VocabModelFile() {}

    private static final int N_EMBD = 32;
    private static final int ALIGN = 32;

    static void write(Path path, Map<String, Object> tokenizerMetadata, int nVocab) throws IOException {
        Map<String, Object> kv = new LinkedHashMap<>();
        kv.put("general.architecture", "llama");
        kv.put("general.name", "vocab-test");
        kv.put("llama.block_count", 1L);
        kv.put("llama.context_length", 256L);
        kv.put("llama.embedding_length", (long) N_EMBD);
        kv.put("llama.feed_forward_length", (long) N_EMBD);
        kv.put("llama.attention.head_count", 2L);
        kv.put("llama.attention.head_count_kv", 2L);
        kv.put("llama.attention.layer_norm_rms_epsilon", 1e-5f);
        kv.put("llama.rope.dimension_count", (long) N_EMBD / 2);
        kv.putAll(tokenizerMetadata);

        record T(String name, long[] dims) {
            long bytes() {
                long n = 4;
                for (long d : dims) n *= d;
                return n;
            }
        }
        List<T> tensors = new ArrayList<>();
        tensors.add(new T("token_embd.weight", new long[]{N_EMBD, nVocab}));
        tensors.add(new T("output_norm.weight", new long[]{N_EMBD}));
        tensors.add(new T("output.weight", new long[]{N_EMBD, nVocab}));
        for (String n : new String[]{"attn_norm", "ffn_norm"}) {
            tensors.add(new T("blk.0." + n + ".weight", new long[]{N_EMBD}));
        }
        for (String n : new String[]{"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"}) {
            tensors.add(new T("blk.0." + n + ".weight", new long[]{N_EMBD, N_EMBD}));
        }

        Out o = new Out();
        o.i32(0x46554747).i32(3).i64(tensors.size()).i64(kv.size());
        for (var e : kv.entrySet()) {
            o.str(e.getKey());
            o.value(e.getValue());
        }
        long offset = 0;
        for (T t : tensors) {
            o.str(t.name).i32(t.dims.length);
            for (long d : t.dims) o.i64(d);
            o.i32(0).i64(offset); // F32
            offset += align(t.bytes());
        }
        byte[] header = o.bytes();
        long dataStart = align(header.length);
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ch.write(ByteBuffer.wrap(header));
            // zero weights: extending the file leaves a hole that reads as zeros
            ch.write(ByteBuffer.wrap(new byte[1]), dataStart + offset - 1);
        }
    }

    private static long align(long n) {
        return (n + ALIGN - 1) / ALIGN * ALIGN;
    }

    private static final class Out {
        private ByteBuffer b = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);

        private void room(int n) {
            if (b.remaining() < n) {
                ByteBuffer bigger = ByteBuffer.allocate(Math.max(b.capacity() * 2, b.position() + n))
                        .order(ByteOrder.LITTLE_ENDIAN);
                b.flip();
                bigger.put(b);
                b = bigger;
            }
        }

        Out i32(int v) {
            room(4);
            b.putInt(v);
            return this;
        }

        Out i64(long v) {
            room(8);
            b.putLong(v);
            return this;
        }

        Out str(String s) {
            byte[] u = s.getBytes(StandardCharsets.UTF_8);
            i64(u.length);
            room(u.length);
            b.put(u);
            return this;
        }

        void value(Object v) {
            switch (v) {
                case String s -> i32(8).str(s);
                case Integer i -> i32(5).i32(i);
                case Long l -> i32(4).i32((int) (long) l);
                case Float f -> { i32(6); room(4); b.putFloat(f); }
                case Boolean z -> { i32(7); room(1); b.put((byte) (z ? 1 : 0)); }
                case String[] a -> {
                    i32(9).i32(8).i64(a.length);
                    for (String s : a) str(s);
                }
                case int[] a -> {
                    i32(9).i32(5).i64(a.length);
                    for (int x : a) i32(x);
                }
                case float[] a -> {
                    i32(9).i32(6).i64(a.length);
                    room(4 * a.length);
                    for (float x : a) b.putFloat(x);
                }
                default -> throw new IllegalArgumentException("unsupported metadata value " + v.getClass());
            }
        }

        byte[] bytes() {
            byte[] out = new byte[b.position()];
            b.flip();
            b.get(out);
            return out;
        }
    }
}
