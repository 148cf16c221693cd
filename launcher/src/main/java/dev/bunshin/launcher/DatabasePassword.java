package dev.bunshin.launcher;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;

/**
 * The password of the PostgreSQL that {@code up} runs, kept in {@code <data-dir>/db-password} (mode 600).
 *
 * <p>On this machine alone the fixed default {@value LocalPostgres#PASSWORD} is fine; once the database listens
 * beyond loopback it is not: the first such start draws a random password and keeps it, and every later start on
 * the same data directory (loopback or not) uses the kept one.
 */
final class DatabasePassword {

    static final String FILE = "db-password";

    private static final String ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    private static final int LENGTH = 24; // ~140 bits

    private DatabasePassword() {
    }

    /** The kept password; else a new one (kept) when {@code remote}; else the default. */
    static String forDataDir(Path dataDir, boolean remote) {
        Path file = dataDir.resolve(FILE);
        try {
            if (Files.exists(file)) {
                String kept = Files.readString(file, StandardCharsets.UTF_8).strip();
                if (kept.isEmpty()) {
                    throw new IllegalStateException(file + " is empty: delete it only together with "
                            + dataDir.resolve("postgres") + ", or write the database's password into it");
                }
                return kept;
            }
            if (!remote) {
                return LocalPostgres.PASSWORD;
            }
            Files.createDirectories(dataDir);
            String password = generate();
            Path tmp = dataDir.resolve(FILE + ".tmp");
            Files.deleteIfExists(tmp);
            // Created owner-only: never readable by others, not even for a moment.
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(tmp, password + "\n", StandardCharsets.UTF_8);
            Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            return password;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot keep the database password in " + file, e);
        }
    }

    static String generate() {
        SecureRandom random = new SecureRandom();
        StringBuilder sb = new StringBuilder(LENGTH);
        for (int i = 0; i < LENGTH; i++) {
            sb.append(ALPHABET.charAt(random.nextInt(ALPHABET.length())));
        }
        return sb.toString();
    }
}
