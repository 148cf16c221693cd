package dev.bunshin.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * CPU time of processes and their descendants, from {@code /proc/PID/stat} (utime + stime, plus cutime + cstime
 * of the reaped children of the root), in seconds. What {@code bench cluster} uses to say where the machine's CPU
 * went during a round: the stage workers' engines, or the machinery around them (Kafka, PostgreSQL, scheduler,
 * submitter, the bench's own HTTP client).
 */
final class ProcessCpu {
    private ProcessCpu() {}

    /** Clock ticks per second of {@code /proc} times (USER_HZ: 100 on Linux for every architecture we run on). */
    private static final double TICKS = 100.0;

    /** CPU seconds so far of each named process tree ({@code pid < 0}: 0). */
    static Map<String, Double> snapshot(Map<String, Long> pids) {
        Map<Long, List<Long>> children = children();
        Map<String, Double> out = new LinkedHashMap<>();
        pids.forEach((name, pid) -> out.put(name, pid < 0 ? 0 : treeSeconds(pid, children, true)));
        return out;
    }

    /** CPU seconds so far of the process alone, its children not counted (0 if it is gone). */
    static double ownSeconds(long pid) {
        long[] t = stat(pid);
        return t == null ? 0 : (t[0] + t[1]) / TICKS;
    }

    /** {@code after - before} per name. */
    static Map<String, Double> delta(Map<String, Double> before, Map<String, Double> after) {
        Map<String, Double> out = new LinkedHashMap<>();
        after.forEach((k, v) -> out.put(k, Math.max(0, v - before.getOrDefault(k, 0.0))));
        return out;
    }

    private static double treeSeconds(long pid, Map<Long, List<Long>> children, boolean root) {
        long[] t = stat(pid);
        if (t == null) return 0;
        double s = (t[0] + t[1] + (root ? t[2] + t[3] : 0)) / TICKS;
        for (long c : children.getOrDefault(pid, List.of())) s += treeSeconds(c, children, false);
        return s;
    }

    /** {utime, stime, cutime, cstime} in ticks, or null if the process is gone. */
    private static long[] stat(long pid) {
        try {
            String s = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            // The command name (field 2) may hold spaces: fields are counted after its closing parenthesis.
            String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
            // f[0] is field 3 (state): utime is field 14 → f[11], stime f[12], cutime f[13], cstime f[14].
            return new long[] {Long.parseLong(f[11]), Long.parseLong(f[12]), Long.parseLong(f[13]), Long.parseLong(f[14])};
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** ppid → children, for every live process. */
    private static Map<Long, List<Long>> children() {
        Map<Long, List<Long>> out = new HashMap<>();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path p : (Iterable<Path>) procs::iterator) {
                String name = p.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit)) continue;
                try {
                    String s = Files.readString(p.resolve("stat"));
                    String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
                    out.computeIfAbsent(Long.parseLong(f[1]), k -> new ArrayList<>()).add(Long.parseLong(name));
                } catch (IOException | RuntimeException ignored) {
                    // gone meanwhile
                }
            }
        } catch (IOException e) {
            return out;
        }
        return out;
    }
}
