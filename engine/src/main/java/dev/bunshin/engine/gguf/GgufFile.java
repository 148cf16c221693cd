package dev.bunshin.engine.gguf;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A GGUF file (version 2 or 3), memory-mapped. Nothing of the tensor data is copied onto the heap: tensors are
 * slices of the mapping, valid until {@link #close()}.
 *
 * <p>Layout, from ggml's {@code gguf.md}:
 * <pre>
 * struct gguf_header_t {
 *     uint32_t magic;              // "GGUF"
 *     uint32_t version;            // 2 or 3 (version 1 used 32-bit counts and is not read)
 *     uint64_t tensor_count;
 *     uint64_t metadata_kv_count;
 *     gguf_metadata_kv_t metadata_kv[metadata_kv_count];
 * };
 * struct gguf_tensor_info_t {
 *     gguf_string_t name;          // uint64_t len; char string[len]
 *     uint32_t n_dimensions;
 *     uint64_t dimensions[n_dimensions];
 *     ggml_type type;              // uint32_t
 *     uint64_t offset;             // relative to the start of tensor_data, a multiple of ALIGNMENT
 * };
 * // then padding to general.alignment (default 32), then tensor_data
 * </pre>
 *
 * <p>Metadata values are held as Java objects: integers of up to 32 bits as {@link Integer} (uint32 as its
 * signed bit pattern would be wrong for values above 2^31, so uint32 is held as {@link Long}), 64-bit as
 * {@link Long}, floats as {@link Float}/{@link Double}, bools as {@link Boolean}, strings as {@link String};
 * arrays as {@code String[]}, {@code int[]} (int8/16/32, uint8/16), {@code long[]} (uint32, int64, uint64),
 * {@code float[]}, {@code double[]}, {@code boolean[]}, or {@code Object[]} for nested arrays.
 */
public final class GgufFile implements AutoCloseable {

    private static final int MAGIC = 0x46554747; // "GGUF" read little-endian
    private static final int DEFAULT_ALIGNMENT = 32;

    private final Path path;
    private final Arena arena;
    private final MemorySegment mapping;
    private final int version;
    private final Map<String, Object> metadata;
    private final Map<String, GgufTensor> tensors;
    private final long dataOffset;

    private GgufFile(Path path, Arena arena, MemorySegment mapping, int version, Map<String, Object> metadata,
                     Map<String, GgufTensor> tensors, long dataOffset) {
        this.path = path;
        this.arena = arena;
        this.mapping = mapping;
        this.version = version;
        this.metadata = metadata;
        this.tensors = tensors;
        this.dataOffset = dataOffset;
    }

    /**
     * Maps and parses a GGUF file.
     *
     * @throws GgufException if the file is not GGUF, is truncated, or names an unknown tensor type
     */
    public static GgufFile open(Path path) throws IOException {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            MemorySegment seg = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            GgufFile f = parse(path, arena, seg);
            return f;
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static GgufFile parse(Path path, Arena arena, MemorySegment seg) throws GgufException {
        Reader r = new Reader(path, seg);
        if (seg.byteSize() < 24) {
            throw new GgufException(path + ": not a GGUF file (only " + seg.byteSize() + " bytes)");
        }
        int magic = r.i32();
        if (magic != MAGIC) {
            throw new GgufException(path + ": not a GGUF file (magic 0x" + Integer.toHexString(magic)
                    + ", expected 0x" + Integer.toHexString(MAGIC) + " \"GGUF\")");
        }
        int version = r.i32();
        if (version != 2 && version != 3) {
            throw new GgufException(path + ": unsupported GGUF version " + version + " (supported: 2, 3)");
        }
        long tensorCount = r.i64();
        long kvCount = r.i64();
        if (tensorCount < 0 || tensorCount > 1_000_000 || kvCount < 0 || kvCount > 10_000_000) {
            throw new GgufException(path + ": corrupt header (tensor_count " + tensorCount
                    + ", metadata_kv_count " + kvCount + ")");
        }
        Map<String, Object> metadata = new LinkedHashMap<>();
        for (long i = 0; i < kvCount; i++) {
            String key = r.string("metadata key #" + i);
            int type = r.i32();
            metadata.put(key, r.value(type, key));
        }
        record Info(String name, long[] dims, GgmlType type, long offset) {}
        Info[] infos = new Info[(int) tensorCount];
        for (int i = 0; i < tensorCount; i++) {
            String name = r.string("tensor name #" + i);
            int nDims = r.i32();
            if (nDims < 1 || nDims > 4) {
                throw new GgufException(path + ": tensor " + name + " has " + nDims + " dimensions (1..4 allowed)");
            }
            long[] dims = new long[nDims];
            for (int d = 0; d < nDims; d++) {
                dims[d] = r.i64();
                if (dims[d] <= 0) {
                    throw new GgufException(path + ": tensor " + name + " has dimension " + d + " = " + dims[d]);
                }
            }
            int typeId = r.i32();
            GgmlType type = GgmlType.byId(typeId);
            if (type == null) {
                throw new GgufException(path + ": tensor " + name + " has unknown type id " + typeId
                        + " (supported: " + GgmlType.supportedNames() + ")");
            }
            infos[i] = new Info(name, dims, type, r.i64());
        }
        Object alignValue = metadata.get(GgufKeys.GENERAL_ALIGNMENT);
        long alignment = alignValue instanceof Number n ? n.longValue() : DEFAULT_ALIGNMENT;
        if (alignment <= 0 || (alignment & (alignment - 1)) != 0) {
            throw new GgufException(path + ": general.alignment " + alignment + " is not a power of two");
        }
        long dataOffset = Math.ceilDiv(r.pos, alignment) * alignment;
        Map<String, GgufTensor> tensors = new LinkedHashMap<>();
        for (Info info : infos) {
            long start = dataOffset + info.offset;
            long size = info.type.byteSize(product(info.dims));
            if (info.offset < 0 || start + size > seg.byteSize()) {
                throw new GgufException(path + ": truncated: tensor " + info.name + " (" + info.type + ") needs bytes "
                        + start + ".." + (start + size) + " but the file has " + seg.byteSize());
            }
            if (tensors.put(info.name, new GgufTensor(info.name, info.dims, info.type, start,
                    seg.asSlice(start, size))) != null) {
                throw new GgufException(path + ": duplicate tensor " + info.name);
            }
        }
        return new GgufFile(path, arena, seg, version, Collections.unmodifiableMap(metadata),
                Collections.unmodifiableMap(tensors), dataOffset);
    }

    private static long product(long[] dims) {
        long n = 1;
        for (long d : dims) {
            n *= d;
        }
        return n;
    }

    public Path path() {
        return path;
    }

    public int version() {
        return version;
    }

    /** File size in bytes. */
    public long size() {
        return mapping.byteSize();
    }

    /** Byte offset where tensor data starts. */
    public long dataOffset() {
        return dataOffset;
    }

    /** All metadata, in file order. */
    public Map<String, Object> metadata() {
        return metadata;
    }

    /** All tensors by name, in file order. */
    public Map<String, GgufTensor> tensors() {
        return tensors;
    }

    /** The tensor with this name, or null. */
    public GgufTensor tensorOrNull(String name) {
        return tensors.get(name);
    }

    /** The tensor with this name; throws naming the file and tensor if absent. */
    public GgufTensor tensor(String name) throws GgufException {
        GgufTensor t = tensors.get(name);
        if (t == null) {
            throw new GgufException(path + ": missing tensor " + name);
        }
        return t;
    }

    public boolean has(String key) {
        return metadata.containsKey(key);
    }

    /** A string value; throws naming the file and key if absent or not a string. */
    public String getString(String key) throws GgufException {
        Object v = metadata.get(key);
        if (v instanceof String s) {
            return s;
        }
        throw missing(key, "string", v);
    }

    public String getString(String key, String defaultValue) {
        return metadata.get(key) instanceof String s ? s : defaultValue;
    }

    /** An integer value of any width; throws naming the file and key if absent. */
    public long getLong(String key) throws GgufException {
        Object v = metadata.get(key);
        if (v instanceof Number n && !(v instanceof Float) && !(v instanceof Double)) {
            return n.longValue();
        }
        throw missing(key, "integer", v);
    }

    public int getInt(String key) throws GgufException {
        return Math.toIntExact(getLong(key));
    }

    public int getInt(String key, int defaultValue) {
        Object v = metadata.get(key);
        return v instanceof Number n ? n.intValue() : defaultValue;
    }

    public float getFloat(String key) throws GgufException {
        Object v = metadata.get(key);
        if (v instanceof Number n) {
            return n.floatValue();
        }
        throw missing(key, "float", v);
    }

    public float getFloat(String key, float defaultValue) {
        Object v = metadata.get(key);
        return v instanceof Number n ? n.floatValue() : defaultValue;
    }

    public boolean getBoolean(String key, boolean defaultValue) {
        Object v = metadata.get(key);
        return v instanceof Boolean b ? b : defaultValue;
    }

    /** A value as stored (see the class comment for the Java types), or null. */
    public Object get(String key) {
        return metadata.get(key);
    }

    private GgufException missing(String key, String what, Object v) {
        return new GgufException(path + ": metadata key " + key + (v == null ? " is missing" :
                " is not a " + what + " (found " + v.getClass().getSimpleName() + ")"));
    }

    @Override
    public void close() {
        arena.close();
    }

    /** Sequential little-endian reader over the mapped header; every read is bounds-checked. */
    private static final class Reader {
        private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);
        private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);
        private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);
        private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);
        private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);

        private final Path path;
        private final MemorySegment seg;
        long pos;

        Reader(Path path, MemorySegment seg) {
            this.path = path;
            this.seg = seg;
        }

        private void need(long n) throws GgufException {
            if (n < 0 || pos + n > seg.byteSize()) {
                throw new GgufException(path + ": truncated header: need " + n + " bytes at offset " + pos
                        + ", file has " + seg.byteSize());
            }
        }

        int i32() throws GgufException {
            need(4);
            int v = seg.get(I32, pos);
            pos += 4;
            return v;
        }

        long i64() throws GgufException {
            need(8);
            long v = seg.get(I64, pos);
            pos += 8;
            return v;
        }

        String string(String what) throws GgufException {
            long len = i64();
            if (len < 0 || len > Integer.MAX_VALUE) {
                throw new GgufException(path + ": corrupt string length " + len + " for " + what + " at offset " + pos);
            }
            need(len);
            byte[] b = seg.asSlice(pos, len).toArray(ValueLayout.JAVA_BYTE);
            pos += len;
            return new String(b, StandardCharsets.UTF_8);
        }

        Object value(int type, String key) throws GgufException {
            switch (type) {
                case 0: need(1); return Byte.toUnsignedInt(seg.get(ValueLayout.JAVA_BYTE, pos++));
                case 1: need(1); return (int) seg.get(ValueLayout.JAVA_BYTE, pos++);
                case 2: { need(2); int v = Short.toUnsignedInt(seg.get(I16, pos)); pos += 2; return v; }
                case 3: { need(2); int v = seg.get(I16, pos); pos += 2; return v; }
                case 4: return Integer.toUnsignedLong(i32());
                case 5: return i32();
                case 6: { need(4); float v = seg.get(F32, pos); pos += 4; return v; }
                case 7: { need(1); return seg.get(ValueLayout.JAVA_BYTE, pos++) != 0; }
                case 8: return string(key);
                case 9: return array(key);
                case 10: case 11: return i64();
                case 12: { need(8); double v = seg.get(F64, pos); pos += 8; return v; }
                default:
                    throw new GgufException(path + ": metadata key " + key + " has unknown value type " + type
                            + " at offset " + pos);
            }
        }

        private Object array(String key) throws GgufException {
            int elemType = i32();
            long n = i64();
            if (n < 0 || n > Integer.MAX_VALUE - 8) {
                throw new GgufException(path + ": metadata key " + key + " has corrupt array length " + n);
            }
            int len = (int) n;
            switch (elemType) {
                case 0, 1, 2, 3, 5: {
                    int[] a = new int[len];
                    for (int i = 0; i < len; i++) a[i] = ((Number) value(elemType, key)).intValue();
                    return a;
                }
                case 4, 10, 11: {
                    long[] a = new long[len];
                    for (int i = 0; i < len; i++) a[i] = ((Number) value(elemType, key)).longValue();
                    return a;
                }
                case 6: {
                    need(4L * len);
                    float[] a = new float[len];
                    MemorySegment.copy(seg, F32, pos, a, 0, len);
                    pos += 4L * len;
                    return a;
                }
                case 12: {
                    double[] a = new double[len];
                    for (int i = 0; i < len; i++) a[i] = (Double) value(elemType, key);
                    return a;
                }
                case 7: {
                    boolean[] a = new boolean[len];
                    for (int i = 0; i < len; i++) a[i] = (Boolean) value(elemType, key);
                    return a;
                }
                case 8: {
                    String[] a = new String[len];
                    for (int i = 0; i < len; i++) a[i] = string(key + "[" + i + "]");
                    return a;
                }
                case 9: {
                    Object[] a = new Object[len];
                    for (int i = 0; i < len; i++) a[i] = array(key + "[" + i + "]");
                    return a;
                }
                default:
                    throw new GgufException(path + ": metadata key " + key + " has unknown array element type " + elemType);
            }
        }
    }

    /** Convenience for callers that hold lists of tensors. */
    public List<GgufTensor> tensorList() {
        return List.copyOf(tensors.values());
    }
}
