package dev.bunshin.worker;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * This process's resident memory, from {@code /proc/self/status}: the JVM heap and what lives outside it (mapped
 * weights, llama.cpp's buffers). Linux only; elsewhere unknown.
 */
final class ProcessMemory {

    private static final Path STATUS = Path.of("/proc/self/status");

    private ProcessMemory() {
    }

    /** VmRSS in bytes, or -1 where {@code /proc/self/status} cannot be read or has no VmRSS line. */
    static long residentBytes() {
        try {
            return residentBytes(Files.readString(STATUS));
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /**
     * VmRSS of a {@code /proc/<pid>/status} text in bytes, or -1 if it has none. proc(5): "VmRSS: Resident set
     * size ... in kB" — a line {@code VmRSS:\t   123456 kB}.
     */
    static long residentBytes(String status) {
        for (String line : status.split("\n")) {
            if (!line.startsWith("VmRSS:")) continue;
            String[] parts = line.substring("VmRSS:".length()).trim().split("\\s+");
            if (parts.length != 2 || !parts[1].equals("kB")) {
                throw new IllegalArgumentException("unexpected VmRSS line in /proc/self/status: '" + line + "'");
            }
            return Long.parseLong(parts[0]) * 1024;
        }
        return -1;
    }
}
