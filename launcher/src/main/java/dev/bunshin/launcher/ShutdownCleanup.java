package dev.bunshin.launcher;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Host state that must not outlive this JVM (network namespaces, bridges, cgroups): registered resources are
 * closed, newest first, by one shutdown hook (Ctrl-C, SIGTERM, {@code System.exit}). The child processes' own
 * hook may run at the same time; each resource's close waits for nothing but its own commands.
 */
final class ShutdownCleanup {
    private ShutdownCleanup() {}

    private static final Set<AutoCloseable> LIVE = Collections.synchronizedSet(new LinkedHashSet<>());

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(ShutdownCleanup::closeAll, "bunshin-host-cleanup"));
    }

    static void register(AutoCloseable resource) {
        LIVE.add(resource);
    }

    static void unregister(AutoCloseable resource) {
        LIVE.remove(resource);
    }

    private static void closeAll() {
        List<AutoCloseable> all;
        synchronized (LIVE) {
            all = new ArrayList<>(LIVE);
        }
        Collections.reverse(all);
        for (AutoCloseable r : all) {
            try {
                r.close();
            } catch (Exception e) {
                System.err.println("bunshin: cleanup: " + e);
            }
        }
    }
}
