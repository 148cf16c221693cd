package dev.bunshin.launcher;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A real memory cap: a process that stays under it runs; one that goes over it is killed by the kernel. */
class MemoryCgroupTest {

    /** A shell that holds about {@code mib} MiB in one variable, then prints "held". */
    private static List<String> allocate(int mib) {
        return List.of("bash", "-c", "x=$(head -c " + mib + "M /dev/zero | tr '\\0' a); echo held ${#x}");
    }

    private static int run(MemoryCgroup cg, List<String> command) throws Exception {
        List<String> cmd = new ArrayList<>(cg.commandPrefix());
        cmd.addAll(command);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "timed out: " + cmd);
        return p.exitValue();
    }

    @Test
    void capKillsWhatGoesOverItAndLetsTheRestRun() throws Exception {
        HostSupport.require("memory cgroups", MemoryCgroup.unavailableReason());
        Path dir;
        try (MemoryCgroup cg = MemoryCgroup.create("bunshin-test-" + ProcessHandle.current().pid(), 64L << 20)) {
            dir = cg.dir();
            assertTrue(Files.isDirectory(dir));
            assertEquals(0, run(cg, allocate(8)), "8 MiB under a 64 MiB cap must run");
            long before = cg.oomKills();
            assertNotEquals(0, run(cg, allocate(256)), "256 MiB under a 64 MiB cap must be killed");
            if (before >= 0) {
                assertTrue(cg.oomKills() > before, "the kernel's OOM killer counted no kill: " + cg.oomKills());
            }
            long peak = cg.peakBytes();
            assertTrue(peak > 8L << 20 && peak <= 64L << 20, "cgroup peak " + peak + " must be within (8 MiB, 64 MiB]");
        }
        assertFalse(Files.exists(dir), "cgroup " + dir + " left behind");
    }
}
