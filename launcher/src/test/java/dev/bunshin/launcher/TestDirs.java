package dev.bunshin.launcher;

import java.nio.file.Files;
import java.nio.file.Path;

/** Fresh directories under target/ (not @TempDir: as root, PostgreSQL's OS user cannot enter a mode-700 dir). */
final class TestDirs {

    private TestDirs() {
    }

    static Path fresh(String name) throws java.io.IOException {
        Path dir = Path.of("target", "test-data", name).toAbsolutePath();
        PostgresBinaries.deleteTree(dir);
        return Files.createDirectories(dir);
    }

    static void assertGone(long pid) throws InterruptedException {
        // onExit has completed in close(); allow the kernel a moment to reap.
        for (int i = 0; i < 50 && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false); i++) {
            Thread.sleep(100);
        }
        org.junit.jupiter.api.Assertions.assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false),
                "process " + pid + " still alive after close");
    }
}
