package dev.bunshin.llama;

import dev.bunshin.engine.LayerRange;
import dev.bunshin.engine.StageRunner;
import dev.bunshin.engine.TestModels;
import dev.bunshin.engine.gguf.GgufFile;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A stage on a GPU backend: stories260K split in two, layers [0, 2) on our Java engine and the rest, with the output
 * head, on llama.cpp's Vulkan build (the same release, npm {@code @node-llama-cpp/linux-x64-vulkan}, obtained by the
 * build), its layers offloaded to the Vulkan device. Here that device is lavapipe, Mesa's Vulkan driver on the CPU
 * ({@code mesa-vulkan-drivers}, installed by {@code ./bunshin test}): the same shaders and buffers a GPU gets, run
 * slowly. The tokens must be the Java engine's whole-model greedy tokens.
 *
 * <p>Runs in a JVM of its own (llama-cpp/pom.xml, execution {@code vulkan}): one process loads one libllama build.
 */
class VulkanStageTest {

    @TempDir
    Path dir;

    @Test
    void aStageOnVulkanGivesTheJavaEnginesGreedyTokens() throws Exception {
        String libDir = System.getenv("BUNSHIN_LLAMA_LIB");
        if (libDir != null && !Files.isDirectory(Path.of(libDir)) && !"amd64".equals(System.getProperty("os.arch"))) {
            Assumptions.abort("SKIPPED LOUDLY: no Vulkan build of libllama for " + System.getProperty("os.name") + " "
                    + System.getProperty("os.arch") + " at " + libDir + " (npm has it for linux-x64)");
        }
        Path lib = LlamaRelease.locate(); // on linux-x64 the build must have obtained it: a missing one fails here
        Assumptions.assumeTrue(lib.getFileName().toString().contains("vulkan"),
                "SKIPPED LOUDLY: VulkanStageTest runs in llama-cpp's 'vulkan' surefire execution (libllama " + lib
                        + " is not the Vulkan build)");
        assertTrue(Files.exists(lib.resolveSibling("libggml-vulkan.so")), "the Vulkan backend beside " + lib);
        Assumptions.assumeTrue(vulkanDriver(), "SKIPPED LOUDLY: no Vulkan driver (lavapipe: "
                + "apt-get install mesa-vulkan-drivers libvulkan1, as scripts/install-vulkan.sh does as root)");
        assertEquals(999, LlamaCppStage.Settings.defaultGpuLayers(), "a GPU build offloads every layer of its shard by default");

        List<String> log = new ArrayList<>();
        Logger llamaLog = Logger.getLogger("dev.bunshin.llama");
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord r) {
                synchronized (log) {
                    log.add(r.getMessage());
                }
            }

            @Override public void flush() { }
            @Override public void close() { }
        };
        llamaLog.addHandler(capture);
        try (GgufFile f = GgufFile.open(TestModels.stories260K())) {
            int n = ModelShape.of(f).nLayers();
            int[] prompt = {1, 300, 301, 302, 303, 304, 305};
            int[] expected;
            try (Chain java = new Chain(f, List.of(StageRunner.load(f, new LayerRange(0, n), LlamaCppStageTest.OPTIONS)))) {
                expected = java.greedy(1, prompt, 16);
            }
            long t0 = System.nanoTime();
            LlamaCppStage vulkan = LlamaCppStage.load(f, new LayerRange(2, n), LlamaCppStageTest.OPTIONS,
                    new LlamaCppStage.Settings(dir.resolve("shards"), LlamaCppStage.Settings.defaultGpuLayers(), 512));
            System.err.println("VulkanStageTest: " + vulkan.describe());
            assertTrue(vulkan.describe().contains("vulkan") && vulkan.describe().contains("n_gpu_layers 999"),
                    "the stage says what it runs on (the worker logs and stores this): " + vulkan.describe());
            try (Chain mixed = new Chain(f, List.of(StageRunner.load(f, new LayerRange(0, 2), LlamaCppStageTest.OPTIONS),
                    vulkan))) {
                int[] got = mixed.greedy(1, prompt, 16);
                System.err.printf("stories260K, Java [0, 2) + Vulkan (lavapipe) [2, %d): %s in %.1f s (shader compilation "
                        + "included)%n", n, Arrays.toString(got), (System.nanoTime() - t0) / 1e9);
                assertArrayEquals(expected, got, "Java [0, 2) + Vulkan [2, " + n + ") against the Java engine's whole model");
            }
        } finally {
            llamaLog.removeHandler(capture);
        }
        synchronized (log) {
            String offload = log.stream().filter(m -> m.contains("offloaded")).findFirst().orElse(null);
            assertTrue(offload != null && !offload.contains(" 0/"), "llama.cpp offloaded the stage's layers: " + offload);
            assertTrue(log.stream().anyMatch(m -> m.contains("Vulkan")), "llama.cpp used its Vulkan backend: " + log);
            System.err.println(offload);
        }
    }

    /**
     * A Vulkan driver (lavapipe and the loader) is there: scripts/install-vulkan.sh checks, installs it when missing
     * (root with apt-get, as in CI), and exits 0 only when it is there.
     */
    private static boolean vulkanDriver() throws Exception {
        Path script = Path.of("..", "scripts", "install-vulkan.sh").toAbsolutePath().normalize();
        int exit = new ProcessBuilder("bash", script.toString()).inheritIO().start().waitFor();
        System.err.println("VulkanStageTest: " + script + " exited " + exit);
        return exit == 0;
    }
}
