package dev.bunshin.launcher;

import javax.tools.ToolProvider;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

/**
 * A stand-in for a packaged Quarkus app: a runnable jar that serves {@code /q/health/ready} and
 * {@code /config?key=K} (echoing a system property, else its environment variable) on {@code -Dquarkus.http.port}. Lets the launcher's process
 * management be tested without the real apps.
 */
final class FakeApp {

    private static final String SOURCE = """
            import com.sun.net.httpserver.HttpServer;
            import java.net.InetSocketAddress;
            import java.nio.charset.StandardCharsets;

            public class FakeQuarkus {
                public static void main(String[] args) throws Exception {
                    int port = Integer.parseInt(System.getProperty("quarkus.http.port"));
                    HttpServer server = HttpServer.create(new InetSocketAddress(System.getProperty("quarkus.http.host", "127.0.0.1"), port), 0);
                    server.createContext("/q/health/ready", x -> {
                        byte[] b = "{\\"status\\":\\"UP\\"}".getBytes(StandardCharsets.UTF_8);
                        x.sendResponseHeaders(200, b.length);
                        x.getResponseBody().write(b);
                        x.close();
                    });
                    server.createContext("/config", x -> {
                        String key = x.getRequestURI().getQuery().substring("key=".length());
                        byte[] b = String.valueOf(System.getProperty(key, System.getenv(key.replaceAll("[^A-Za-z0-9]", "_").toUpperCase()))).getBytes(StandardCharsets.UTF_8);
                        x.sendResponseHeaders(200, b.length);
                        x.getResponseBody().write(b);
                        x.close();
                    });
                    server.start();
                    System.out.println("fake app listening on " + port);
                }
            }
            """;

    private FakeApp() {
    }

    /** Compiles the fake app into {@code dir/fake-app.jar}. */
    static Path build(Path dir) throws IOException {
        Path src = Files.createDirectories(dir.resolve("fake-src"));
        Path classes = Files.createDirectories(dir.resolve("fake-classes"));
        Files.writeString(src.resolve("FakeQuarkus.java"), SOURCE);
        int rc = ToolProvider.getSystemJavaCompiler().run(null, null, null, "-d", classes.toString(),
                src.resolve("FakeQuarkus.java").toString());
        if (rc != 0) {
            throw new IllegalStateException("javac failed: " + rc);
        }
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, "FakeQuarkus");
        Path jar = dir.resolve("fake-app.jar");
        try (OutputStream file = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(file, manifest)) {
            out.putNextEntry(new JarEntry("FakeQuarkus.class"));
            out.write(Files.readAllBytes(classes.resolve("FakeQuarkus.class")));
            out.closeEntry();
        }
        return jar;
    }

    /** A fake checkout: {@code <home>/<module>/target/quarkus-app/quarkus-run.jar} for the three apps. */
    static Path checkout(Path dir) throws IOException {
        Path jar = build(dir);
        Path home = dir.resolve("checkout");
        for (String module : new String[] {"scheduler", "submitter", "stage-worker"}) {
            Path app = Files.createDirectories(home.resolve(module).resolve("target").resolve("quarkus-app"));
            Files.copy(jar, app.resolve("quarkus-run.jar"));
        }
        return home;
    }
}
