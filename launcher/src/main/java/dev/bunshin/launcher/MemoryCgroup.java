package dev.bunshin.launcher;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A memory cgroup that caps the processes started in it: cgroup v2 ({@code memory.max}) where the unified
 * hierarchy has the memory controller, else cgroup v1 ({@code memory.limit_in_bytes}). It is made below this
 * process's own cgroup, so whatever accounts for us still accounts for it. {@link #close()} removes it (its
 * processes must have exited).
 */
public final class MemoryCgroup implements AutoCloseable {

    private final Path dir;
    private final boolean v2;
    private final long limitBytes;

    private MemoryCgroup(Path dir, boolean v2, long limitBytes) {
        this.dir = dir;
        this.v2 = v2;
        this.limitBytes = limitBytes;
    }

    /** Null when memory cgroups can be made here, else why not (for a message that names what is missing). */
    public static String unavailableReason() {
        if (!HostCommand.isRoot()) {
            return "memory caps need root (cgroups are written under /sys/fs/cgroup)";
        }
        try {
            parent();
            return null;
        } catch (IllegalStateException e) {
            return e.getMessage();
        }
    }

    /** Makes {@code <own cgroup>/<name>} with a hard limit of {@code limitBytes}. */
    public static MemoryCgroup create(String name, long limitBytes) {
        if (limitBytes < (16L << 20)) {
            throw new IllegalArgumentException("memory cap " + limitBytes + " bytes is below 16 MiB");
        }
        Parent p = parent();
        Path dir = p.dir.resolve(name);
        try {
            Files.createDirectory(dir);
            Files.writeString(dir.resolve(p.v2 ? "memory.max" : "memory.limit_in_bytes"), Long.toString(limitBytes));
            if (p.v2) {
                Files.writeString(dir.resolve("memory.swap.max"), "0"); // a cap that swap would soften is no cap
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot make memory cgroup " + dir + ": " + e.getMessage(), e);
        }
        MemoryCgroup cgroup = new MemoryCgroup(dir, p.v2, limitBytes);
        ShutdownCleanup.register(cgroup);
        return cgroup;
    }

    public Path dir() {
        return dir;
    }

    public long limitBytes() {
        return limitBytes;
    }

    /** "cgroup v2 memory.max" or "cgroup v1 memory.limit_in_bytes": what enforces the cap. */
    public String mechanism() {
        return v2 ? "cgroup v2 memory.max" : "cgroup v1 memory.limit_in_bytes";
    }

    /**
     * A command prefix that moves itself into this cgroup before it execs the rest of the command: the process
     * is capped from its first allocation on. It must come before {@code ip netns exec}, which hides
     * {@code /sys/fs/cgroup} behind a fresh sysfs.
     */
    public List<String> commandPrefix() {
        return List.of("/bin/sh", "-c", "echo $$ > '" + dir.resolve("cgroup.procs") + "' && exec \"$@\"", "sh");
    }

    /** The cgroup's peak memory use so far (page cache included), or -1 when the kernel does not say. */
    public long peakBytes() {
        return readLong(v2 ? "memory.peak" : "memory.max_usage_in_bytes");
    }

    /** How many times the kernel's OOM killer killed a process of this cgroup (-1 when it does not say). */
    public long oomKills() {
        try {
            for (String line : Files.readAllLines(dir.resolve(v2 ? "memory.events" : "memory.oom_control"))) {
                if (line.startsWith("oom_kill ")) {
                    return Long.parseLong(line.substring("oom_kill ".length()).strip());
                }
            }
        } catch (IOException | NumberFormatException ignored) {
            // older kernels
        }
        return -1;
    }

    /** Removes the cgroup; retried for up to 30 s while its processes stop (their own grace period is 20 s). */
    @Override
    public void close() {
        ShutdownCleanup.unregister(this);
        for (int attempt = 0; attempt < 300 && Files.exists(dir); attempt++) {
            try {
                Files.delete(dir); // rmdir: the control files are not real files
                return;
            } catch (IOException e) {
                try {
                    Thread.sleep(100);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        if (Files.exists(dir)) {
            System.err.println("bunshin: could not remove memory cgroup " + dir + " (processes still in it?)");
        }
    }

    private long readLong(String file) {
        try {
            return Long.parseLong(Files.readString(dir.resolve(file)).strip());
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
    }

    private record Parent(Path dir, boolean v2) {}

    /** This process's own memory cgroup directory, v2 if it has the memory controller, else v1. */
    private static Parent parent() {
        List<String> lines;
        try {
            lines = Files.readAllLines(Path.of("/proc/self/cgroup"));
        } catch (IOException e) {
            throw new IllegalStateException("no /proc/self/cgroup: not Linux, or /proc is not mounted");
        }
        for (Path root : List.of(Path.of("/sys/fs/cgroup"), Path.of("/sys/fs/cgroup/unified"))) {
            Path controllers = root.resolve("cgroup.controllers");
            try {
                if (Files.isRegularFile(controllers) && List.of(Files.readString(controllers).strip().split(" ")).contains("memory")) {
                    for (String line : lines) {
                        if (line.startsWith("0::")) {
                            Path own = root.resolve(line.substring(3).replaceFirst("^/", ""));
                            Files.writeString(own.resolve("cgroup.subtree_control"), "+memory");
                            return new Parent(own, true);
                        }
                    }
                }
            } catch (IOException e) {
                // cgroup v2's "no internal processes" rule, or read-only: try v1
            }
        }
        Path v1 = Path.of("/sys/fs/cgroup/memory");
        for (String line : lines) {
            String[] f = line.split(":", 3);
            if (f.length == 3 && List.of(f[1].split(",")).contains("memory") && Files.isDirectory(v1)) {
                Path own = v1.resolve(f[2].replaceFirst("^/", ""));
                if (Files.isWritable(own)) {
                    return new Parent(own, false);
                }
            }
        }
        throw new IllegalStateException("no memory cgroup controller here: neither cgroup v2 with \"memory\" in "
                + "cgroup.controllers (that we may delegate) nor a writable cgroup v1 memory hierarchy at " + v1);
    }
}
