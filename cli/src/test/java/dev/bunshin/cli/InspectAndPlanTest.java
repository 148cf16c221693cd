package dev.bunshin.cli;

import dev.bunshin.engine.TestModels;
import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.engine.gguf.GgufTensor;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InspectAndPlanTest {

    private static String line(String out, String key) {
        return out.lines().filter(l -> l.startsWith(key + " ")).findFirst()
                .map(l -> l.substring(key.length()).strip()).orElseThrow(() -> new AssertionError("no " + key + " in\n" + out));
    }

    @Test
    void inspectsStories260K() throws Exception {
        Cli r = Cli.run("inspect", TestModels.stories260K().toString());
        assertEquals(0, r.status(), r.toString());
        assertEquals("llama", line(r.out(), "architecture"));
        assertEquals("5", line(r.out(), "layers"));
        assertEquals("64", line(r.out(), "embedding"));
        assertEquals("8 (kv heads 4, head dim 8)", line(r.out(), "heads"));
        assertEquals("172", line(r.out(), "feed-forward"));
        assertEquals("512", line(r.out(), "vocabulary"));
        assertEquals("2048", line(r.out(), "context"));
        assertEquals("llama", line(r.out(), "tokenizer"));
        assertEquals("3", line(r.out(), "gguf version"));
        assertEquals("yes", line(r.out(), "can run"));
        assertEquals("java (any split), llama.cpp v0.5.0 (any split)", line(r.out(), "backends"));
        assertTrue(line(r.out(), "file").contains(Files.size(TestModels.stories260K()) + " bytes"), r.out());
        try (GgufFile f = GgufFile.open(TestModels.stories260K())) {
            long bytes = f.tensors().values().stream().mapToLong(GgufTensor::byteSize).sum();
            assertEquals(f.tensors().size() + " tensors, " + dev.bunshin.models.plan.ByteSize.format(bytes)
                    + " (" + bytes + " bytes)", line(r.out(), "  F32"));
        }
    }

    @Test
    void inspectSaysWhyAFileCannotRun() {
        Cli q8 = Cli.run("inspect", TestModels.stories260KQ8().toString());
        assertEquals(0, q8.status(), q8.toString());
        assertEquals("yes", line(q8.out(), "can run"), "the engine reads v2 Q8_0 rows that cross blocks");
        assertEquals("2", line(q8.out(), "gguf version"));
        assertTrue(line(q8.out(), "  Q8_0").startsWith("37 tensors"), q8.out());
        Cli bert = Cli.run("inspect", TestModels.require("vocab/ggml-vocab-bert-bge.gguf").toString());
        assertEquals("no: no tensors (a vocabulary-only file)", line(bert.out(), "can run"));
    }

    record Row(int stage, String node, int start, int end) {}

    private static List<Row> rows(String out) {
        List<Row> rows = new ArrayList<>();
        for (String l : out.lines().toList()) {
            String[] c = l.trim().split("\\s+");
            if (c.length > 3 && c[0].matches("\\d+") && c[2].startsWith("[")) {
                int start = Integer.parseInt(c[2].substring(1, c[2].length() - 1));
                int end = Integer.parseInt(c[3].substring(0, c[3].length() - 1));
                rows.add(new Row(Integer.parseInt(c[0]), c[1], start, end));
            }
        }
        return rows;
    }

    @Test
    void plansContiguousStagesFollowingSpeed() {
        Cli r = Cli.run("plan", TestModels.stories260K().toString(), "--nodes", "2", "--speed", "1,3");
        assertEquals(0, r.status(), r.toString());
        assertEquals(List.of(new Row(0, "node-0", 0, 1), new Row(1, "node-1", 1, 5)), rows(r.out()), r.out());
        assertTrue(r.out().contains("2 (K and V) × 2048 context × 4 kv heads × 8 head dim × 4 B = 512 KiB per layer"),
                r.out());
    }

    @Test
    void planWeightsMemoryUnlessToldSpeedOnly() {
        String model = TestModels.stories260K().toString();
        Cli byMemory = Cli.run("plan", model, "--nodes", "2", "--memory", "1G,3G", "--context", "64");
        assertEquals(List.of(new Row(0, "node-0", 0, 1), new Row(1, "node-1", 1, 5)), rows(byMemory.out()), byMemory.out());
        Cli bySpeed = Cli.run("plan", model, "--nodes", "2", "--memory", "1G,3G", "--context", "64",
                "--weighting", "speed");
        // Equal speeds: equal work, and the last stage's output head counts as the layers its bytes are worth.
        assertEquals(List.of(new Row(0, "node-0", 0, 3), new Row(1, "node-1", 3, 5)), rows(bySpeed.out()), bySpeed.out());
        Cli bad = Cli.run("plan", model, "--nodes", "2", "--weighting", "vibes");
        assertEquals(2, bad.status());
        assertTrue(bad.err().contains("option --weighting must be speed-memory or speed, got \"vibes\""), bad.toString());
    }

    @Test
    void planLeavesOutANodeThatWouldPaceThePipelineAndSaysWhy() {
        Cli r = Cli.run("plan", TestModels.stories260K().toString(), "--nodes", "3", "--speed", "10,0.1,10", "--context", "64");
        assertEquals(0, r.status(), r.toString());
        assertEquals(List.of("node-0", "node-2"), rows(r.out()).stream().map(Row::node).toList(), r.out());
        assertTrue(r.out().contains("node-1 (speed 0.100) left out: with it the slowest stage takes"), r.out());
        assertFalse(r.out().contains("get no layers"), r.out());
    }

    @Test
    void planUsesEveryNode() {
        Cli r = Cli.run("plan", TestModels.stories260K().toString(), "--nodes", "5", "--context", "64");
        assertEquals(0, r.status(), r.toString());
        List<Row> rows = rows(r.out());
        assertEquals(5, rows.size(), r.out());
        for (int i = 0; i < 5; i++) assertEquals(new Row(i, "node-" + i, i, i + 1), rows.get(i));
    }

    @Test
    void planNamesTheShortfall() {
        // 1.12 MiB of weights + 5 × 512 KiB of KV cache do not fit in 2 × 1 MiB.
        Cli r = Cli.run("plan", TestModels.stories260K().toString(), "--nodes", "2", "--memory", "1M");
        assertEquals(1, r.status(), r.toString());
        assertTrue(r.err().contains("short by"), r.toString());
        assertTrue(r.err().contains("KV cache 2.50 MiB"), r.toString());
    }
}
