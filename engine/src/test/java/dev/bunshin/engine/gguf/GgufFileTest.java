package dev.bunshin.engine.gguf;

import dev.bunshin.engine.TestModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GgufFileTest {

    @Test
    void readsStories260KHeaderAndTensors() throws Exception {
        try (GgufFile f = GgufFile.open(TestModels.stories260K())) {
            assertEquals("llama", f.getString(GgufKeys.GENERAL_ARCHITECTURE));
            assertEquals(5, f.getInt("llama.block_count"));
            assertEquals(64, f.getInt("llama.embedding_length"));
            String[] tokens = (String[]) f.get(GgufKeys.TOKENIZER_TOKENS);
            assertEquals(512, tokens.length);
            GgufTensor q = f.tensor("blk.0.attn_q.weight");
            assertEquals(GgmlType.F32, q.type());
            assertTrue(Arrays.equals(new long[]{64, 64}, q.dims()), Arrays.toString(q.dims()));
            assertEquals(64L * 64 * 4, q.data().byteSize());
        }
    }

    @Test
    void readsVersion2FileWithQ8Tensors() throws Exception {
        try (GgufFile f = GgufFile.open(TestModels.stories260KQ8())) {
            assertEquals(2, f.version());
            GgufTensor down = f.tensor("blk.0.ffn_down.weight");
            assertEquals(GgmlType.Q8_0, down.type());
            assertEquals(172, down.cols());
        }
    }

    @Test
    void refusesTruncatedFileNamingTheTensor(@TempDir Path tmp) throws Exception {
        Path src = TestModels.stories260K();
        byte[] all = Files.readAllBytes(src);
        Path cut = tmp.resolve("cut.gguf");
        Files.write(cut, Arrays.copyOf(all, all.length - 1000));
        GgufException e = assertThrows(GgufException.class, () -> GgufFile.open(cut));
        assertTrue(e.getMessage().contains("truncated") && e.getMessage().contains("cut.gguf"), e.getMessage());
        assertTrue(e.getMessage().contains("tensor "), e.getMessage());
    }

    @Test
    void refusesNonGguf(@TempDir Path tmp) throws Exception {
        Path bad = tmp.resolve("bad.gguf");
        Files.writeString(bad, "this is not a gguf file at all, it is text");
        GgufException e = assertThrows(GgufException.class, () -> GgufFile.open(bad));
        assertTrue(e.getMessage().contains("not a GGUF file"), e.getMessage());
        assertInstanceOf(GgufException.class, e);
    }
}
