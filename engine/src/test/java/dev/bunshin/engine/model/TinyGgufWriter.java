package dev.bunshin.engine.model;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A minimal GGUF v3 writer for engine tests: metadata of a few types and F32 tensors. (The quants helper owns the
 * full writer with every quant type; this one only serves the architecture tests.)
 */
final class TinyGgufWriter {
    private final ByteArrayOutputStream kv = new ByteArrayOutputStream();
    private int kvCount;
    private final List<String> names = new ArrayList<>();
    private final List<long[]> dims = new ArrayList<>();
    private final List<float[]> data = new ArrayList<>();

    TinyGgufWriter str(String key, String v) {
        key(key, 8);
        string(kv, v);
        return this;
    }

    TinyGgufWriter u32(String key, long v) {
        key(key, 4);
        le(kv, 4, v);
        return this;
    }

    TinyGgufWriter f32(String key, float v) {
        key(key, 6);
        le(kv, 4, Float.floatToIntBits(v));
        return this;
    }

    TinyGgufWriter strings(String key, String[] v) {
        key(key, 9);
        le(kv, 4, 8);
        le(kv, 8, v.length);
        for (String s : v) string(kv, s);
        return this;
    }

    TinyGgufWriter floats(String key, float[] v) {
        key(key, 9);
        le(kv, 4, 6);
        le(kv, 8, v.length);
        for (float f : v) le(kv, 4, Float.floatToIntBits(f));
        return this;
    }

    TinyGgufWriter ints(String key, int[] v) {
        key(key, 9);
        le(kv, 4, 5);
        le(kv, 8, v.length);
        for (int i : v) le(kv, 4, i);
        return this;
    }

    /** An F32 tensor with ggml dims (ne0 first), e.g. {cols, rows}. */
    TinyGgufWriter tensor(String name, float[] values, long... ggmlDims) {
        names.add(name);
        dims.add(ggmlDims);
        data.add(values);
        return this;
    }

    void write(Path path) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        le(out, 4, 0x46554747);
        le(out, 4, 3);
        le(out, 8, names.size());
        le(out, 8, kvCount);
        kv.writeTo(out);
        long offset = 0;
        long[] offsets = new long[names.size()];
        for (int i = 0; i < names.size(); i++) {
            offsets[i] = offset;
            offset = align(offset + 4L * data.get(i).length);
        }
        for (int i = 0; i < names.size(); i++) {
            string(out, names.get(i));
            le(out, 4, dims.get(i).length);
            for (long d : dims.get(i)) le(out, 8, d);
            le(out, 4, 0); // F32
            le(out, 8, offsets[i]);
        }
        while (out.size() % 32 != 0) out.write(0);
        for (float[] values : data) {
            ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            for (float f : values) b.putFloat(f);
            out.write(b.array());
            while (out.size() % 32 != 0) out.write(0);
        }
        Files.write(path, out.toByteArray());
    }

    private static long align(long n) {
        return (n + 31) / 32 * 32;
    }

    private void key(String key, int type) {
        string(kv, key);
        le(kv, 4, type);
        kvCount++;
    }

    private static void string(ByteArrayOutputStream o, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        le(o, 8, b.length);
        o.writeBytes(b);
    }

    private static void le(OutputStream o, int bytes, long v) {
        for (int i = 0; i < bytes; i++) {
            try {
                o.write((int) (v >>> (8 * i)) & 0xFF);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
