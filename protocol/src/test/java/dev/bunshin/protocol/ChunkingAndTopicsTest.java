package dev.bunshin.protocol;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class ChunkingAndTopicsTest {

    @Test
    void chunksAreCappedAt512AndFitTheMessageSize() {
        assertEquals(512, Chunking.tokensPerRecord(64, WirePrecision.F32, 1 << 20));
        // 8192-wide F32 rows are 32 KiB: a 1 MiB record holds 31 of them with the header and headroom.
        int n = Chunking.tokensPerRecord(8192, WirePrecision.F32, 1 << 20);
        assertEquals(31, n);
        assertTrue(ActivationCodec.encodedSize(n, 8192, WirePrecision.F32) <= (1 << 20));
        assertEquals(63, Chunking.tokensPerRecord(8192, WirePrecision.F16, 1 << 20));
        assertTrue(ActivationCodec.encodedSize(63, 8192, WirePrecision.F16) <= (1 << 20));
        assertThrows(IllegalArgumentException.class, () -> Chunking.tokensPerRecord(1 << 20, WirePrecision.F32, 1 << 20));
        assertEquals(3, Chunking.chunkCount(1025, 512));
        assertEquals(1, Chunking.chunkCount(512, 512));
    }

    @Test
    void topicNamesAreValidKafkaNames() {
        assertEquals("bunshin.stories260K.stage-0", Topics.stage("stories260K", 0));
        assertEquals("bunshin.qwen2.5_0.5b.stage-2", Topics.stage("qwen2.5:0.5b", 2));
        assertEquals("bunshin.qwen2.5_0.5b.stage-2.workers", Topics.stageGroup("qwen2.5:0.5b", 2));
        assertThrows(IllegalArgumentException.class, () -> Topics.stage(" ", 0));
    }
}
