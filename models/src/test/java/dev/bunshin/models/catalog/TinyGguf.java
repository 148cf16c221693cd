package dev.bunshin.models.catalog;

import dev.bunshin.engine.gguf.GgmlType;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Writes small GGUF v3 files (string and uint32 metadata, zero-filled tensors) to describe edge cases. */
final class TinyGguf {
    private final Map<String, Object> kv = new LinkedHashMap<>();
    private final List<Object[]> tensors = new ArrayList<>(); // {name, dims, type}

    TinyGguf kv(String key, Object value) {
        kv.put(key, value);
        return this;
    }

    TinyGguf tensor(String name, GgmlType type, long... dims) {
        tensors.add(new Object[]{name, dims, type});
        return this;
    }

    Path write(Path path) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes("GGUF".getBytes(StandardCharsets.US_ASCII));
        u32(out, 3);
        u64(out, tensors.size());
        u64(out, kv.size());
        for (Map.Entry<String, Object> e : kv.entrySet()) {
            str(out, e.getKey());
            if (e.getValue() instanceof String s) {
                u32(out, 8);
                str(out, s);
            } else {
                u32(out, 4);
                u32(out, ((Number) e.getValue()).intValue());
            }
        }
        long offset = 0;
        List<Long> sizes = new ArrayList<>();
        for (Object[] t : tensors) {
            long[] dims = (long[]) t[1];
            GgmlType type = (GgmlType) t[2];
            str(out, (String) t[0]);
            u32(out, dims.length);
            long n = 1;
            for (long d : dims) {
                u64(out, d);
                n *= d;
            }
            u32(out, type.id);
            u64(out, offset);
            long size = type.byteSize(n);
            sizes.add(size);
            offset += Math.ceilDiv(size, 32) * 32;
        }
        while (out.size() % 32 != 0) out.write(0);
        for (long size : sizes) {
            out.writeBytes(new byte[(int) (Math.ceilDiv(size, 32) * 32)]);
        }
        Files.write(path, out.toByteArray());
        return path;
    }

    private static void u32(ByteArrayOutputStream out, int v) {
        out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array());
    }

    private static void u64(ByteArrayOutputStream out, long v) {
        out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array());
    }

    private static void str(ByteArrayOutputStream out, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        u64(out, b.length);
        out.writeBytes(b);
    }
}
