package dev.bunshin.models.gguf;

import dev.bunshin.engine.gguf.GgufKeys;

import dev.bunshin.engine.gguf.GgmlType;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * Writes GGUF version 3 files: metadata of every value type (arrays included), then tensor infos, then the
 * tensor data, each tensor aligned to {@code general.alignment} (32 unless that key is set). Layout as in
 * {@link GgufFile}. Tensor bytes may be supplied lazily, so that a large model is produced one tensor at a time
 * while it is written.
 *
 * <pre>{@code
 * new GgufWriter()
 *     .putString("general.architecture", "llama")
 *     .putUint32("llama.block_count", 2)
 *     .addTensor("output_norm.weight", GgmlType.F32, new long[] {64}, bytes)
 *     .write(path);
 * }</pre>
 */
public final class GgufWriter {

    /** gguf_metadata_value_type. */
    public enum ValueType {
        UINT8(0), INT8(1), UINT16(2), INT16(3), UINT32(4), INT32(5), FLOAT32(6), BOOL(7), STRING(8), ARRAY(9),
        UINT64(10), INT64(11), FLOAT64(12);

        public final int id;

        ValueType(int id) {
            this.id = id;
        }
    }

    /**
     * An array value: {@code values} is {@code byte[]}/{@code short[]}/{@code int[]} for the integer types up to
     * 32 bits (written with the width of {@code elementType}), {@code long[]} for UINT32/UINT64/INT64 too,
     * {@code float[]}, {@code double[]}, {@code boolean[]}, {@code String[]}, or {@code Array[]} for nested arrays.
     */
    public record Array(ValueType elementType, Object values) {
        public Array {
            Objects.requireNonNull(elementType, "elementType == null");
            Objects.requireNonNull(values, "values == null");
            if (!values.getClass().isArray()) {
                throw new IllegalArgumentException("array value of " + elementType + " is a " + values.getClass().getSimpleName());
            }
        }

        int length() {
            return java.lang.reflect.Array.getLength(values);
        }
    }

    private record Value(ValueType type, Object value) {}

    private record Tensor(String name, GgmlType type, long[] dims, long size, Supplier<byte[]> data) {}

    private static final int MAGIC = 0x46554747; // "GGUF" little-endian
    private static final int DEFAULT_ALIGNMENT = 32;

    private final Map<String, Value> metadata = new LinkedHashMap<>();
    private final List<Tensor> tensors = new ArrayList<>();

    private GgufWriter put(String key, ValueType type, Object value) {
        Objects.requireNonNull(key, "key == null");
        Objects.requireNonNull(value, "value of " + key + " == null");
        metadata.put(key, new Value(type, value));
        return this;
    }

    public GgufWriter putUint8(String key, int value) {
        return put(key, ValueType.UINT8, value);
    }

    public GgufWriter putInt8(String key, int value) {
        return put(key, ValueType.INT8, value);
    }

    public GgufWriter putUint16(String key, int value) {
        return put(key, ValueType.UINT16, value);
    }

    public GgufWriter putInt16(String key, int value) {
        return put(key, ValueType.INT16, value);
    }

    public GgufWriter putUint32(String key, long value) {
        if (value < 0 || value > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException(key + ": " + value + " is not a uint32");
        }
        return put(key, ValueType.UINT32, value);
    }

    public GgufWriter putInt32(String key, int value) {
        return put(key, ValueType.INT32, value);
    }

    public GgufWriter putUint64(String key, long value) {
        return put(key, ValueType.UINT64, value);
    }

    public GgufWriter putInt64(String key, long value) {
        return put(key, ValueType.INT64, value);
    }

    public GgufWriter putFloat32(String key, float value) {
        return put(key, ValueType.FLOAT32, value);
    }

    public GgufWriter putFloat64(String key, double value) {
        return put(key, ValueType.FLOAT64, value);
    }

    public GgufWriter putBool(String key, boolean value) {
        return put(key, ValueType.BOOL, value);
    }

    public GgufWriter putString(String key, String value) {
        return put(key, ValueType.STRING, value);
    }

    public GgufWriter putArray(String key, Array value) {
        return put(key, ValueType.ARRAY, value);
    }

    public GgufWriter putArray(String key, ValueType elementType, Object values) {
        return putArray(key, new Array(elementType, values));
    }

    /** Whether a metadata key has been put. */
    public boolean has(String key) {
        return metadata.containsKey(key);
    }

    /** Adds a tensor whose bytes are at hand ({@code dims} in ggml order, ne0 first). */
    public GgufWriter addTensor(String name, GgmlType type, long[] dims, byte[] data) {
        Objects.requireNonNull(data, "data of " + name + " == null");
        return addTensor(name, type, dims, () -> data);
    }

    /**
     * Adds a tensor whose bytes are produced by {@code data} while {@link #write} runs (called once, in tensor
     * order); it must return exactly {@code type.byteSize(Π dims)} bytes.
     */
    public GgufWriter addTensor(String name, GgmlType type, long[] dims, Supplier<byte[]> data) {
        Objects.requireNonNull(name, "name == null");
        Objects.requireNonNull(type, "type of " + name + " == null");
        if (dims.length < 1 || dims.length > 4) {
            throw new IllegalArgumentException("tensor " + name + " has " + dims.length + " dimensions (1..4 allowed)");
        }
        long n = 1;
        for (long d : dims) {
            if (d < 0 || d == 0 && dims.length == 1) { // 0 rows is allowed: a shard's vocabulary-free head
                throw new IllegalArgumentException("tensor " + name + " has a dimension " + d);
            }
            n *= d;
        }
        if (dims[0] % type.blockSize != 0) {
            throw new IllegalArgumentException("tensor " + name + " (" + type + ") has rows of " + dims[0]
                    + " values, not a multiple of the block size " + type.blockSize);
        }
        for (Tensor t : tensors) {
            if (t.name.equals(name)) {
                throw new IllegalArgumentException("duplicate tensor " + name);
            }
        }
        tensors.add(new Tensor(name, type, dims.clone(), type.byteSize(n), data));
        return this;
    }

    /** Writes the file (replacing any file at {@code path}). */
    public void write(Path path) throws IOException {
        long alignment = DEFAULT_ALIGNMENT;
        Value a = metadata.get(GgufKeys.GENERAL_ALIGNMENT);
        if (a != null) {
            alignment = ((Number) a.value).longValue();
            if (alignment <= 0 || (alignment & (alignment - 1)) != 0) {
                throw new IllegalArgumentException("general.alignment " + alignment + " is not a power of two");
            }
        }
        Path tmp = path.resolveSibling(path.getFileName() + ".tmp");
        try (Out out = new Out(Files.newOutputStream(tmp))) {
            out.i32(MAGIC);
            out.i32(3);
            out.i64(tensors.size());
            out.i64(metadata.size());
            for (Map.Entry<String, Value> e : metadata.entrySet()) {
                out.string(e.getKey());
                out.i32(e.getValue().type.id);
                value(out, e.getKey(), e.getValue().type, e.getValue().value);
            }
            long offset = 0;
            for (Tensor t : tensors) {
                out.string(t.name);
                out.i32(t.dims.length);
                for (long d : t.dims) {
                    out.i64(d);
                }
                out.i32(t.type.id);
                out.i64(offset);
                offset = align(offset + t.size, alignment);
            }
            out.pad(alignment);
            for (Tensor t : tensors) {
                byte[] bytes = t.data.get();
                if (bytes.length != t.size) {
                    throw new IllegalStateException("tensor " + t.name + " (" + t.type + " " + java.util.Arrays.toString(t.dims)
                            + ") needs " + t.size + " bytes, its data has " + bytes.length);
                }
                out.bytes(bytes);
                out.pad(alignment);
            }
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        Files.move(tmp, path, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    private static long align(long v, long alignment) {
        return Math.ceilDiv(v, alignment) * alignment;
    }

    private static void value(Out out, String key, ValueType type, Object v) throws IOException {
        switch (type) {
            case UINT8, INT8, BOOL -> out.u8(v instanceof Boolean b ? (b ? 1 : 0) : ((Number) v).intValue());
            case UINT16, INT16 -> out.i16(((Number) v).intValue());
            case UINT32, INT32 -> out.i32(((Number) v).intValue());
            case UINT64, INT64 -> out.i64(((Number) v).longValue());
            case FLOAT32 -> out.i32(Float.floatToRawIntBits(((Number) v).floatValue()));
            case FLOAT64 -> out.i64(Double.doubleToRawLongBits(((Number) v).doubleValue()));
            case STRING -> out.string((String) v);
            case ARRAY -> {
                Array arr = (Array) v;
                out.i32(arr.elementType.id);
                int n = arr.length();
                out.i64(n);
                for (int i = 0; i < n; i++) {
                    Object e = java.lang.reflect.Array.get(arr.values, i);
                    if (e == null) {
                        throw new IllegalArgumentException(key + "[" + i + "] is null");
                    }
                    value(out, key + "[" + i + "]", arr.elementType, e);
                }
            }
        }
    }

    /** Little-endian buffered output that counts bytes (for alignment padding). */
    private static final class Out implements AutoCloseable {
        private final OutputStream os;
        private long pos;

        Out(OutputStream os) {
            this.os = new BufferedOutputStream(os, 1 << 16);
        }

        void u8(int v) throws IOException {
            os.write(v);
            pos++;
        }

        void i16(int v) throws IOException {
            u8(v & 0xFF);
            u8((v >>> 8) & 0xFF);
        }

        void i32(int v) throws IOException {
            i16(v);
            i16(v >>> 16);
        }

        void i64(long v) throws IOException {
            i32((int) v);
            i32((int) (v >>> 32));
        }

        void bytes(byte[] b) throws IOException {
            os.write(b);
            pos += b.length;
        }

        void string(String s) throws IOException {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            i64(b.length);
            bytes(b);
        }

        void pad(long alignment) throws IOException {
            while (pos % alignment != 0) {
                u8(0);
            }
        }

        @Override
        public void close() throws IOException {
            os.close();
        }
    }
}
