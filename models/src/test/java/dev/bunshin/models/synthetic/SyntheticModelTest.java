package dev.bunshin.models.synthetic;

import dev.bunshin.engine.gguf.GgmlType;
import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.engine.gguf.GgufKeys;
import dev.bunshin.engine.gguf.GgufTensor;
import dev.bunshin.models.synthetic.SyntheticModel.Mix;
import dev.bunshin.models.synthetic.SyntheticModel.Spec;
import dev.bunshin.engine.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What {@link SyntheticModel} writes: shapes, type mixes, vocabulary, determinism. */
class SyntheticModelTest {

    @TempDir
    Path dir;

    @Test
    void q4KMixFollowsLlamaCpp() throws Exception {
        Spec spec = SyntheticModel.tiny("llama", Mix.Q4_K_M).withLayers(8);
        Path p = SyntheticModel.write(dir.resolve("m.gguf"), spec);
        try (GgufFile f = GgufFile.open(p)) {
            assertEquals(15, f.getInt(GgufKeys.GENERAL_FILE_TYPE));
            assertEquals(GgmlType.Q6_K, f.tensor("output.weight").type());
            assertEquals(GgmlType.Q4_K, f.tensor("token_embd.weight").type());
            assertEquals(GgmlType.F32, f.tensor("blk.0.attn_norm.weight").type());
            // use_more_bits(i, 8): i < 1, i >= 7, or (i - 1) % 3 == 2 → layers 0, 3, 6, 7.
            Set<Integer> more = Set.of(0, 3, 6, 7);
            for (int il = 0; il < 8; il++) {
                GgmlType expected = more.contains(il) ? GgmlType.Q6_K : GgmlType.Q4_K;
                assertEquals(expected, f.tensor("blk." + il + ".attn_v.weight").type(), "attn_v " + il);
                assertEquals(expected, f.tensor("blk." + il + ".ffn_down.weight").type(), "ffn_down " + il);
                assertEquals(GgmlType.Q4_K, f.tensor("blk." + il + ".attn_q.weight").type(), "attn_q " + il);
                assertEquals(GgmlType.Q4_K, f.tensor("blk." + il + ".ffn_up.weight").type(), "ffn_up " + il);
            }
        }
    }

    @Test
    void shapesAndMetadataOfEachArchitecture() throws Exception {
        for (String arch : List.of("llama", "qwen2", "qwen3")) {
            Spec spec = SyntheticModel.tiny(arch, Mix.Q8_0);
            Path p = SyntheticModel.write(dir.resolve(arch + ".gguf"), spec);
            try (GgufFile f = GgufFile.open(p)) {
                assertEquals(arch, f.getString(GgufKeys.GENERAL_ARCHITECTURE));
                assertEquals(spec.nLayers(), f.getInt(GgufKeys.arch(arch, GgufKeys.BLOCK_COUNT)));
                assertEquals(spec.nVocab(), ((String[]) f.get(GgufKeys.TOKENIZER_TOKENS)).length);
                int q = spec.nHead() * spec.headDim();
                int kv = spec.nHeadKv() * spec.headDim();
                assertArrayEquals(new long[] {spec.nEmbd(), q}, f.tensor("blk.1.attn_q.weight").dims());
                assertArrayEquals(new long[] {spec.nEmbd(), kv}, f.tensor("blk.1.attn_k.weight").dims());
                assertArrayEquals(new long[] {q, spec.nEmbd()}, f.tensor("blk.1.attn_output.weight").dims());
                assertArrayEquals(new long[] {spec.nFf(), spec.nEmbd()}, f.tensor("blk.1.ffn_down.weight").dims());
                assertArrayEquals(new long[] {spec.nEmbd(), spec.nVocab()}, f.tensor("output.weight").dims());
                assertEquals(arch.equals("qwen2"), f.tensorOrNull("blk.0.attn_q.bias") != null, arch + " q bias");
                assertEquals(arch.equals("qwen3"), f.tensorOrNull("blk.0.attn_k_norm.weight") != null, arch + " k norm");
                long params = 0;
                for (GgufTensor t : f.tensors().values()) {
                    if (!t.name().contains(".bias") && !t.name().contains("_norm")) params += t.elementCount();
                }
                assertEquals(spec.parameterCount() - spec.nEmbd() - 2L * spec.nLayers() * spec.nEmbd(), params);
            }
        }
    }

    @Test
    void sameSpecGivesSameBytes() throws Exception {
        Spec spec = SyntheticModel.tiny("llama", Mix.Q4_K_M);
        byte[] a = Files.readAllBytes(SyntheticModel.write(dir.resolve("a.gguf"), spec));
        byte[] b = Files.readAllBytes(SyntheticModel.write(dir.resolve("b.gguf"), spec));
        byte[] c = Files.readAllBytes(SyntheticModel.write(dir.resolve("c.gguf"), spec.withSeed(8)));
        assertArrayEquals(a, b);
        assertEquals(a.length, c.length);
        assertTrue(!java.util.Arrays.equals(a, c), "another seed gives other weights");
    }

    @Test
    void vocabularyIsExactAndUniqueAndTokenizes() throws Exception {
        for (int n : new int[] {512, 4096, 32000}) {
            SyntheticModel.Vocabulary v = SyntheticModel.Vocabulary.build(n);
            assertEquals(n, v.tokens.length);
            assertEquals(n, new HashSet<>(List.of(v.tokens)).size(), "tokens are unique");
        }
        Path p = SyntheticModel.write(dir.resolve("v.gguf"), SyntheticModel.tiny("llama", Mix.Q8_0));
        try (GgufFile f = GgufFile.open(p)) {
            Tokenizer tok = Tokenizer.fromGguf(f);
            String text = "Once upon a time, the dog saw 3 big red balls!";
            int[] ids = tok.encode(text, true, false);
            assertEquals(SyntheticModel.Vocabulary.BOS, ids[0]);
            assertTrue(ids.length < text.length(), "words merge into pieces: " + ids.length + " tokens");
            assertEquals(text, tok.decode(java.util.Arrays.copyOfRange(ids, 1, ids.length)).stripLeading());
        }
    }

    @Test
    void refusesBadShapes() {
        assertThrows(IllegalArgumentException.class, () -> new Spec("gpt2", 1, 64, 4, 4, 0, 128, 512, 64, Mix.Q8_0, 1));
        assertThrows(IllegalArgumentException.class, () -> new Spec("llama", 1, 64, 4, 3, 0, 128, 512, 64, Mix.Q8_0, 1));
        assertThrows(IllegalArgumentException.class, () -> new Spec("llama", 1, 64, 4, 4, 0, 128, 100, 64, Mix.Q8_0, 1));
    }
}
