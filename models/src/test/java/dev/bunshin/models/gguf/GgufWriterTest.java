package dev.bunshin.models.gguf;

import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.engine.gguf.GgufTensor;
import dev.bunshin.engine.gguf.GgmlType;
import dev.bunshin.engine.gguf.GgufKeys;
import dev.bunshin.models.gguf.GgufWriter.Array;
import dev.bunshin.models.gguf.GgufWriter.ValueType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Files written by {@link GgufWriter} read back through {@link GgufFile} value for value and byte for byte. */
class GgufWriterTest {

    @TempDir
    Path dir;

    @Test
    void everyValueTypeRoundTrips() throws Exception {
        Path p = dir.resolve("all.gguf");
        new GgufWriter()
                .putUint8("u8", 200).putInt8("i8", -100).putUint16("u16", 60000).putInt16("i16", -30000)
                .putUint32("u32", 4_000_000_000L).putInt32("i32", -2_000_000_000)
                .putUint64("u64", 1L << 40).putInt64("i64", -(1L << 40))
                .putFloat32("f32", 1.5f).putFloat64("f64", -2.25).putBool("yes", true).putBool("no", false)
                .putString("s", "héllo ▁wörld")
                .putArray("a.u8", ValueType.UINT8, new int[] {0, 255})
                .putArray("a.i32", ValueType.INT32, new int[] {-1, 2, 3})
                .putArray("a.u32", ValueType.UINT32, new long[] {4_000_000_000L, 1})
                .putArray("a.f32", ValueType.FLOAT32, new float[] {0.5f, -1f})
                .putArray("a.f64", ValueType.FLOAT64, new double[] {0.25})
                .putArray("a.bool", ValueType.BOOL, new boolean[] {true, false})
                .putArray("a.str", ValueType.STRING, new String[] {"<s>", "", "▁the"})
                .putArray("a.nested", ValueType.ARRAY, new Array[] {
                        new Array(ValueType.INT16, new int[] {-5}), new Array(ValueType.STRING, new String[] {"x", "y"})})
                .putArray("a.empty", ValueType.INT32, new int[0])
                .write(p);
        try (GgufFile f = GgufFile.open(p)) {
            assertEquals(3, f.version());
            assertEquals(200, f.get("u8"));
            assertEquals(-100, f.get("i8"));
            assertEquals(60000, f.get("u16"));
            assertEquals(-30000, f.get("i16"));
            assertEquals(4_000_000_000L, f.get("u32"));
            assertEquals(-2_000_000_000, f.get("i32"));
            assertEquals(1L << 40, f.get("u64"));
            assertEquals(-(1L << 40), f.get("i64"));
            assertEquals(1.5f, f.get("f32"));
            assertEquals(-2.25, f.get("f64"));
            assertEquals(true, f.get("yes"));
            assertEquals(false, f.get("no"));
            assertEquals("héllo ▁wörld", f.get("s"));
            assertArrayEquals(new int[] {0, 255}, (int[]) f.get("a.u8"));
            assertArrayEquals(new int[] {-1, 2, 3}, (int[]) f.get("a.i32"));
            assertArrayEquals(new long[] {4_000_000_000L, 1}, (long[]) f.get("a.u32"));
            assertArrayEquals(new float[] {0.5f, -1f}, (float[]) f.get("a.f32"));
            assertArrayEquals(new double[] {0.25}, (double[]) f.get("a.f64"));
            assertArrayEquals(new boolean[] {true, false}, (boolean[]) f.get("a.bool"));
            assertArrayEquals(new String[] {"<s>", "", "▁the"}, (String[]) f.get("a.str"));
            Object[] nested = (Object[]) f.get("a.nested");
            assertArrayEquals(new int[] {-5}, (int[]) nested[0]);
            assertArrayEquals(new String[] {"x", "y"}, (String[]) nested[1]);
            assertEquals(0, ((int[]) f.get("a.empty")).length);
            assertEquals(22, f.metadata().size());
            assertTrue(f.tensors().isEmpty());
        }
    }

    @Test
    void tensorsAreAlignedAndIntact() throws Exception {
        Path p = dir.resolve("t.gguf");
        byte[] a = new byte[4 * 3];      // F32 [3]: 12 bytes, so the next tensor needs padding
        byte[] b = new byte[34 * 2 * 5]; // Q8_0 [5, 64]
        byte[] c = new byte[2 * 7];      // F16 [7]
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) (i * 31);
        }
        a[0] = 1;
        c[13] = 9;
        new GgufWriter()
                .putString(GgufKeys.GENERAL_ARCHITECTURE, "test")
                .addTensor("a", GgmlType.F32, new long[] {3}, a)
                .addTensor("b", GgmlType.Q8_0, new long[] {64, 5}, () -> b)
                .addTensor("c", GgmlType.F16, new long[] {7}, c)
                .write(p);
        try (GgufFile f = GgufFile.open(p)) {
            assertEquals(0, f.dataOffset() % 32);
            for (GgufTensor t : f.tensors().values()) {
                assertEquals(0, (t.offset() - f.dataOffset()) % 32, t.name() + " offset " + t.offset());
            }
            assertArrayEquals(a, f.tensor("a").data().toArray(ValueLayout.JAVA_BYTE));
            assertArrayEquals(b, f.tensor("b").data().toArray(ValueLayout.JAVA_BYTE));
            assertArrayEquals(c, f.tensor("c").data().toArray(ValueLayout.JAVA_BYTE));
            assertArrayEquals(new long[] {64, 5}, f.tensor("b").dims());
            assertEquals(GgmlType.Q8_0, f.tensor("b").type());
            assertEquals(f.dataOffset() + 32 + 352, f.tensor("c").offset()); // 12 → 32, 340 → 352
        }
    }

    @Test
    void wrongTensorSizeFailsAndLeavesNoFile() {
        Path p = dir.resolve("bad.gguf");
        GgufWriter w = new GgufWriter().addTensor("x", GgmlType.F32, new long[] {4}, new byte[15]);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> w.write(p));
        assertTrue(e.getMessage().contains("x") && e.getMessage().contains("16"), e.getMessage());
        assertFalse(Files.exists(p));
        assertFalse(Files.exists(dir.resolve("bad.gguf.tmp")));
    }

    @Test
    void refusesPartialBlocksAndDuplicates() {
        GgufWriter w = new GgufWriter().addTensor("x", GgmlType.F32, new long[] {4}, new byte[16]);
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("x", GgmlType.F32, new long[] {4}, new byte[16]));
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("y", GgmlType.Q4_K, new long[] {100, 2}, new byte[0]));
    }
}
