package dev.bunshin.cli;

import dev.bunshin.engine.TestModels;
import dev.bunshin.models.catalog.ModelInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BenchCommandTest {

    /** A table row's cells, e.g. {@code | decode tok/s (…) | 1.0 | 2.0 | 0.50× |}. */
    private static List<String> row(String out, String metricPrefix) {
        String line = out.lines().filter(l -> l.startsWith("| " + metricPrefix)).findFirst()
                .orElseThrow(() -> new AssertionError("no row " + metricPrefix + " in\n" + out));
        return List.of(line.substring(2, line.length() - 2).split(" \\| "));
    }

    @Test
    void makesTinySyntheticModelsThatRun(@TempDir Path tmp) throws Exception {
        Cli r = Cli.run("bench", "make-models", tmp.toString(), "--tiny");
        assertEquals(0, r.status(), r.toString());
        List<String> files = r.out().lines().toList();
        assertEquals(3, files.size(), r.out());
        for (String mix : List.of("Q8_0", "Q4_0", "Q4_K_M")) {
            Path f = tmp.resolve("synthetic-tiny-llama-" + mix.toLowerCase() + ".gguf");
            assertTrue(files.contains(f.toString()), r.out());
            ModelInfo info = ModelInfo.read(f);
            assertNull(info.unsupportedReason(), f.toString());
            assertEquals(mix, info.quantization());
        }
        Cli again = Cli.run("bench", "make-models", tmp.toString(), "--tiny", "--mixes", "Q8_0");
        assertTrue(again.err().contains("exists, kept"), again.toString());
        Cli bad = Cli.run("bench", "make-models", tmp.toString(), "--mixes", "Q9_9");
        assertEquals(2, bad.status());
        assertTrue(bad.err().contains("option --mixes: unknown mix \"Q9_9\""), bad.toString());
    }

    @Test
    void benchPrintsOursAndLlamaCppSideBySide() {
        Cli r = Cli.run("bench", "engine", TestModels.stories260K().toString(), "--threads", "1", "--tokens", "8",
                "--prompt-tokens", "16", "--batch", "2", "--reps", "1", "--warmup", "0");
        assertEquals(0, r.status(), r.toString());
        List<String> prompt = row(r.out(), "prompt tok/s");
        assertTrue(prompt.get(0).contains("16 tokens"), prompt.toString());
        assertTrue(Double.parseDouble(prompt.get(1)) > 0, prompt.toString());
        assertTrue(Double.parseDouble(prompt.get(2)) > 0, "llama.cpp measured: " + prompt);
        assertTrue(prompt.get(3).endsWith("×"), prompt.toString());
        List<String> batch = row(r.out(), "batched decode tok/s (2 sequences");
        assertTrue(Double.parseDouble(batch.get(1)) > 0, batch.toString());
        assertTrue(r.err().contains("baseline run 1"), r.err());
    }

    @Test
    void benchOfTheLlamaCppBackendInStagesPrintsJsonWithItsBaseline() {
        Cli r = Cli.run("bench", "engine", TestModels.stories260K().toString(), "--backend", "llama.cpp", "--stages", "3",
                "--threads", "1", "--tokens", "4", "--prompt-tokens", "16", "--batch", "2", "--reps", "1", "--warmup", "0", "--json");
        assertEquals(0, r.status(), r.toString());
        String json = r.out().strip();
        assertTrue(json.startsWith("{\"model\": \"stories260K\", \"backend\": \"llama.cpp\", \"stages\": 3, \"threads\": 1"), json);
        assertTrue(json.matches(".*\"decode_tok_s\": [0-9.]+, \"batch16_tok_s\": [0-9.]+, \"clock\": \"wall\", \"baseline\": "
                + "\\{\"model\": \"stories260K\", \"backend\": \"llama.cpp\", \"stages\": 1.*\\}\\}"), json);
        assertEquals(1, json.lines().count(), "one object per run");
    }

    @Test
    void anUnknownBackendIsAUsageError() {
        Cli r = Cli.run("bench", "engine", TestModels.stories260K().toString(), "--backend", "onnx");
        assertEquals(2, r.status(), r.toString());
        assertTrue(r.err().contains("option --backend: unknown backend \"onnx\" (java, llama.cpp)"), r.toString());
    }
}
