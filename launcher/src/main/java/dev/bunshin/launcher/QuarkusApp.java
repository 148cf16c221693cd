package dev.bunshin.launcher;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One packaged Bunshin app ({@code <module>/target/quarkus-app/quarkus-run.jar}) running as a child JVM, its
 * configuration passed as {@code -D} system properties, its output in a log file.
 */
final class QuarkusApp implements AutoCloseable {

    /** Every JVM that may run engine code needs these (COMMON.md). */
    static final List<String> VECTOR_FLAGS = List.of("--add-modules", "jdk.incubator.vector",
            "--enable-native-access=ALL-UNNAMED");

    /**
     * Config keys passed in the child's environment (Quarkus reads {@code QUARKUS_DATASOURCE_PASSWORD} as
     * {@code quarkus.datasource.password}), not as {@code -D}: a command line is visible to every user in
     * {@code ps} and is written at the top of the log.
     */
    static final java.util.Set<String> SECRET_KEYS = java.util.Set.of("quarkus.datasource.password", "bunshin.api.key",
            "bunshin.api.admin-keys", "bunshin.kafka.password");

    private final String name;
    private final ChildProcess process;
    private final int port;
    private final String host;

    private QuarkusApp(String name, ChildProcess process, int port, String host) {
        this.name = name;
        this.process = process;
        this.port = port;
        this.host = host;
    }

    /**
     * Starts {@code jar} with {@code -Xmx<heap>}, the vector flags and {@code -Dkey=value} for each config entry
     * ({@code quarkus.http.port} among them).
     */
    static QuarkusApp start(String name, Path jar, String heap, Map<String, String> config, Path workDir, Path log) {
        return start(name, List.of(), jar, heap, config, workDir, log);
    }

    /** As above, the command behind {@code prefix} (words that place the process and exec the rest). */
    static QuarkusApp start(String name, List<String> prefix, Path jar, String heap, Map<String, String> config,
                            Path workDir, Path log) {
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(name + ": " + jar + " does not exist: build the apps first"
                    + " (mvn -B -ntp package -DskipTests)");
        }
        String portValue = config.get("quarkus.http.port");
        if (portValue == null) {
            throw new IllegalArgumentException(name + ": config has no quarkus.http.port");
        }
        List<String> command = new ArrayList<>(prefix);
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx" + heap);
        command.addAll(VECTOR_FLAGS);
        command.addAll(jitFlags(config, System.getenv(JIT_ENV)));
        command.addAll(hugePageFlags(config, THP_MODE));
        Map<String, String> env = new java.util.LinkedHashMap<>();
        config.forEach((key, value) -> {
            if (SECRET_KEYS.contains(key)) {
                env.put(envName(key), value);
            } else {
                command.add("-D" + key + "=" + value);
            }
        });
        command.addAll(List.of("-jar", jar.toString()));
        ChildProcess child = ChildProcess.start(name, command, workDir, env, log, "TERM", Duration.ofSeconds(20));
        String host = config.getOrDefault("quarkus.http.host", Binding.LOOPBACK);
        return new QuarkusApp(name, child, Integer.parseInt(portValue),
                new Binding(host, host, "quarkus.http.host").localHost());
    }

    /** Overrides {@link #jitFlags}' choice for stage workers: {@code c1} or {@code tiered}. */
    static final String JIT_ENV = "BUNSHIN_WORKER_JIT";

    /**
     * A stage worker on the llama.cpp backend runs with C1 only ({@code -XX:TieredStopAtLevel=1}): its engine is
     * native, its Java is glue (Kafka clients, records, sampling), and C2 kept compiling the Kafka clients' largest
     * methods (0.4–0.75 s each) on the node's core for minutes, a fifth of a tail's CPU a minute into a run (perf,
     * JFR). Measured with {@code bench cluster} (docs/benchmarks.md): more tokens/s for one job and for 32. A worker
     * on the java backend keeps tiered compilation: its engine is Vector API code that only C2 makes fast.
     *
     * @param override {@link #JIT_ENV}'s value, or null: {@code c1} or {@code tiered} for every stage worker
     * @throws IllegalArgumentException naming {@link #JIT_ENV} for another value
     */
    static List<String> jitFlags(Map<String, String> config, String override) {
        String backend = config.get("bunshin.worker.backend");
        if (backend == null) return List.of(); // not a stage worker
        String jit = override == null || override.isBlank() ? ("llama.cpp".equals(backend) ? "c1" : "tiered")
                : override.strip().toLowerCase(java.util.Locale.ROOT);
        return switch (jit) {
            case "c1" -> List.of("-XX:TieredStopAtLevel=1");
            case "tiered" -> List.of();
            default -> throw new IllegalArgumentException(JIT_ENV + " must be c1 or tiered, got '" + override + "'");
        };
    }

    /** Linux's transparent huge page mode: {@code always [madvise] never}, the bracketed word in force. */
    static final Path THP_MODE = Path.of("/sys/kernel/mm/transparent_hugepage/enabled");

    /**
     * A stage worker on the java backend asks for transparent huge pages on its heap
     * ({@code -XX:+UseTransparentHugePages}) where the kernel grants them on request ({@code [madvise]}, the
     * default of many distributions; {@code [always]} gives them anyway): its weights stream from the heap once
     * per token, and with 4 KiB pages a Q8_0 decode step read them about 6 % slower (docs/benchmarks.md,
     * 2026-12-06). Nothing elsewhere: the flag exists only on Linux, and a JVM refuses options it does not know.
     *
     * @param mode the file holding the kernel's mode ({@link #THP_MODE}); missing or unreadable means no flag
     */
    static List<String> hugePageFlags(Map<String, String> config, Path mode) {
        if (!"java".equals(config.get("bunshin.worker.backend"))) return List.of();
        return grantsHugePages(mode) ? List.of("-XX:+UseTransparentHugePages") : List.of();
    }

    static boolean grantsHugePages(Path mode) {
        try {
            String m = Files.readString(mode);
            return m.contains("[madvise]") || m.contains("[always]");
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** MicroProfile Config's environment name of a key: {@code quarkus.datasource.password} → {@code QUARKUS_DATASOURCE_PASSWORD}. */
    static String envName(String key) {
        return key.replaceAll("[^A-Za-z0-9]", "_").toUpperCase(java.util.Locale.ROOT);
    }

    String name() {
        return name;
    }

    int port() {
        return port;
    }

    long pid() {
        return process.pid();
    }

    Path log() {
        return process.log();
    }

    /** The child process, for a {@link Supervisor}. */
    ChildProcess process() {
        return process;
    }

    boolean isAlive() {
        return process.isAlive();
    }

    String tail(int lines) {
        return process.tail(lines);
    }

    /**
     * Waits for {@code GET /q/health/ready} to answer 200. An app without smallrye-health answers 404 there:
     * an HTTP answer at all then counts as ready.
     */
    void awaitReady(Duration timeout) {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        URI ready = URI.create("http://" + Binding.hostPort(host, port) + "/q/health/ready");
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "no answer yet";
        while (System.nanoTime() < deadline) {
            process.checkAlive();
            if (Ports.isOpen(host, port)) {
                try {
                    HttpResponse<String> response = http.send(
                            HttpRequest.newBuilder(ready).timeout(Duration.ofSeconds(5)).GET().build(),
                            HttpResponse.BodyHandlers.ofString());
                    if (response.statusCode() == 200 || response.statusCode() == 404) {
                        return;
                    }
                    last = "HTTP " + response.statusCode() + " " + response.body();
                } catch (IOException e) {
                    last = e.toString();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while waiting for " + name, e);
                }
            }
            try {
                Thread.sleep(250);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for " + name, e);
            }
        }
        throw new IllegalStateException(name + " was not ready within " + timeout + " on port " + port + " (" + last
                + "); log " + process.log() + ":\n" + process.tail(40));
    }

    /** {@link #awaitReady}, stopping the app when it does not become ready. */
    void awaitReadyOrStop(Duration timeout) {
        try {
            awaitReady(timeout);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    @Override
    public void close() {
        process.close();
    }
}
