package dev.bunshin.launcher;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class DataDirLockTest {

    @Test
    void aSecondUpOnTheSameDataDirectoryIsRefusedWithTheFirstOnesPid() throws Exception {
        Path dir = TestDirs.fresh("data-dir-lock");
        long pid = ProcessHandle.current().pid();
        try (DataDirLock first = DataDirLock.acquire(dir)) {
            assertEquals(pid + "\n", Files.readString(dir.resolve(DataDirLock.FILE)));
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> DataDirLock.acquire(dir));
            assertEquals("another ./bunshin up runs on " + dir + " (pid " + pid + "): stop it first, or pass"
                    + " another --data-dir", e.getMessage());
        }
        DataDirLock.acquire(dir).close(); // free again once the first is closed
    }
}
