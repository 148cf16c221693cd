package dev.bunshin.e2e;

import dev.bunshin.engine.TestModels;
import dev.bunshin.launcher.LocalStack;
import dev.bunshin.launcher.UpOptions;

import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The whole system as {@code ./bunshin up} starts it, from the apps packaged in this reactor: a real Kafka broker and
 * PostgreSQL, the scheduler, the submitter on a free port, and two stage workers generating with stories260K.
 */
final class UpStack {

    /** The repository root: where LocalStack finds the packaged apps. */
    static final Path HOME = Path.of("..").toAbsolutePath().normalize();

    private UpStack() {}

    /** @param name its data directory under target/; {@code extra}: more {@code up} options */
    static LocalStack start(String name, String... extra) throws Exception {
        // Under target/: as root, PostgreSQL runs as another user, who must be able to reach the data dir.
        Path dataDir = Path.of("target", name).toAbsolutePath();
        // A fresh stack each run: a database left by an earlier build may hold another set of migrations.
        dev.bunshin.launcher.UpProcess.deleteTree(dataDir);
        System.setProperty("bunshin.home", HOME.toString());
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        List<String> args = new ArrayList<>(List.of("--model", TestModels.stories260K().toString(), "--workers", "2",
                "--port", Integer.toString(port), "--data-dir", dataDir.toString(), "--threads", "1"));
        args.addAll(List.of(extra));
        return LocalStack.start(UpOptions.parse(args.toArray(String[]::new)), System.out);
    }
}
