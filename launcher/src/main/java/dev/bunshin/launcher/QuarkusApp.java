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

    private final String name;
    private final ChildProcess process;
    private final int port;

    private QuarkusApp(String name, ChildProcess process, int port) {
        this.name = name;
        this.process = process;
        this.port = port;
    }

    /**
     * Starts {@code jar} with {@code -Xmx<heap>}, the vector flags and {@code -Dkey=value} for each config entry
     * ({@code quarkus.http.port} among them).
     */
    static QuarkusApp start(String name, Path jar, String heap, Map<String, String> config, Path workDir, Path log) {
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(name + ": " + jar + " does not exist: build the apps first"
                    + " (mvn -B -ntp package -DskipTests)");
        }
        String portValue = config.get("quarkus.http.port");
        if (portValue == null) {
            throw new IllegalArgumentException(name + ": config has no quarkus.http.port");
        }
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx" + heap);
        command.addAll(VECTOR_FLAGS);
        config.forEach((key, value) -> command.add("-D" + key + "=" + value));
        command.addAll(List.of("-jar", jar.toString()));
        ChildProcess child = ChildProcess.start(name, command, workDir, Map.of(), log, "TERM", Duration.ofSeconds(20));
        return new QuarkusApp(name, child, Integer.parseInt(portValue));
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
        URI ready = URI.create("http://127.0.0.1:" + port + "/q/health/ready");
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "no answer yet";
        while (System.nanoTime() < deadline) {
            process.checkAlive();
            if (Ports.isOpen("127.0.0.1", port)) {
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

    @Override
    public void close() {
        process.close();
    }
}
