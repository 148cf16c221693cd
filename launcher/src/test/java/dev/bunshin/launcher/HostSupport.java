package dev.bunshin.launcher;

import org.junit.jupiter.api.Assumptions;

/** Skips a test LOUDLY (stderr banner + JUnit abort) when this machine cannot do what it needs. */
final class HostSupport {
    private HostSupport() {}

    /** Aborts the test when {@code reason} is not null: the host lacks root, a tool, a kernel feature. */
    static void require(String what, String reason) {
        if (reason != null) {
            String msg = "SKIPPED (loudly): " + what + ": " + reason;
            System.err.println("\n*** " + msg + " ***\n");
            Assumptions.abort(msg);
        }
    }
}
