package dev.bunshin.e2e;

import dev.bunshin.engine.TestModels;
import dev.bunshin.launcher.LocalStack;
import dev.bunshin.launcher.UpOptions;

import java.net.ServerSocket;
import java.nio.file.Path;

/** The whole system as {@code ./bunshin up} starts it, in this JVM, for the tests that need the packaged apps. */
final class UpStack {

    /** The checkout whose {@code <module>/target/quarkus-app} the stack runs. */
    static final Path HOME = Path.of("..").toAbsolutePath().normalize();

    private UpStack() {
    }

    /**
     * {@code up --model stories260K --workers N --threads 1} on a free API port, its data under
     * {@code target/<dir>}: as root, PostgreSQL runs as another user, who must be able to reach the data dir.
     */
    static LocalStack start(String dir, int workers) throws Exception {
        Path model = TestModels.stories260K();
        Path dataDir = Path.of("target", dir).toAbsolutePath();
        System.setProperty("bunshin.home", HOME.toString());
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        return LocalStack.start(UpOptions.parse(new String[] {
                "--model", model.toString(), "--workers", Integer.toString(workers), "--port", Integer.toString(port),
                "--data-dir", dataDir.toString(), "--threads", "1"}), System.out);
    }
}
