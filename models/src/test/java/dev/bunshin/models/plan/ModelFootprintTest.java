package dev.bunshin.models.plan;

import dev.bunshin.engine.TestModels;
import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.engine.gguf.GgufTensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ModelFootprintTest {

    @Test
    void groupsStories260KTensorsByLayer() throws Exception {
        try (GgufFile f = GgufFile.open(TestModels.stories260K())) {
            ModelFootprint fp = ModelFootprint.of(f, 5);
            assertEquals(5, fp.layerBytes().size());
            long all = f.tensors().values().stream().mapToLong(GgufTensor::byteSize).sum();
            long layers = fp.layerBytes().stream().mapToLong(Long::longValue).sum();
            long embd = f.tensor("token_embd.weight").byteSize();
            boolean tied = f.tensorOrNull("output.weight") == null;
            assertEquals(all, layers + fp.firstExtra() + fp.lastExtra() - (tied ? embd : 0));
            assertEquals(fp.layerBytes().get(0), fp.layerBytes().get(4), "all llama layers are the same size");
            long expectedLayer0 = f.tensors().values().stream().filter(t -> t.name().startsWith("blk.0."))
                    .mapToLong(GgufTensor::byteSize).sum();
            assertEquals(expectedLayer0, fp.layerBytes().get(0));
        }
    }

    @Test
    void kvBytesFollowTheFormula() {
        // TinyLlama: 4 kv heads × 64 dims, 2048 context: 2 × 2048 × 4 × 64 × 4 B = 4 MiB per layer.
        assertEquals(4L << 20, ModelFootprint.kvBytesPerLayer(2048, 4, 64, 1));
        assertEquals(8L << 20, ModelFootprint.kvBytesPerLayer(2048, 4, 64, 2));
    }

    @Test
    void layerNumbersParse() {
        assertEquals(12, ModelFootprint.layerOf("blk.12.attn_q.weight"));
        assertEquals(-1, ModelFootprint.layerOf("token_embd.weight"));
        assertEquals(-1, ModelFootprint.layerOf("blk.x.attn_q.weight"));
    }
}
