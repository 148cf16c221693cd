package dev.bunshin.launcher;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;

/**
 * The passwords {@code up} keeps in its data directory (mode 600), drawn at random the first time they are needed:
 *
 * <ul>
 *   <li>the PostgreSQL's, {@code <data-dir>/db-password}: on this machine alone the fixed default
 *   {@value LocalPostgres#PASSWORD} is fine; once the database listens beyond loopback it is not: the first such start
 *   draws a random password and keeps it, and every later start on the same data directory (loopback or not) uses
 *   the kept one;</li>
 *   <li>the Kafka's, {@code <data-dir>/kafka-password}: the SCRAM password of the user that workers on other
 *   machines log in as ({@link LocalKafka}'s authenticated listener, only with {@code --bind}).</li>
 * </ul>
 */
final class KeptPassword {

    static final String DATABASE_FILE = "db-password";
    static final String KAFKA_FILE = "kafka-password";

    private static final String ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    private static final int LENGTH = 24; // ~140 bits

    private KeptPassword() {
    }

    /** The database's kept password; else a new one (kept) when {@code remote}; else the default. */
    static String database(Path dataDir, boolean remote) {
        return kept(dataDir, DATABASE_FILE, remote, LocalPostgres.PASSWORD, dataDir.resolve("postgres"));
    }

    /** Kafka's kept SCRAM password, else a new one (kept). */
    static String kafka(Path dataDir) {
        return kept(dataDir, KAFKA_FILE, true, null, dataDir.resolve("kafka"));
    }

    /** The kept password; else a new one (kept) when {@code remote}; else {@code fallback}. */
    private static String kept(Path dataDir, String name, boolean remote, String fallback, Path server) {
        Path file = dataDir.resolve(name);
        try {
            if (Files.exists(file)) {
                String kept = Files.readString(file, StandardCharsets.UTF_8).strip();
                if (kept.isEmpty()) {
                    throw new IllegalStateException(file + " is empty: delete it only together with "
                            + server + ", or write the password " + server.getFileName() + " knows into it");
                }
                return kept;
            }
            if (!remote) {
                return fallback;
            }
            Files.createDirectories(dataDir);
            String password = generate();
            Path tmp = dataDir.resolve(name + ".tmp");
            Files.deleteIfExists(tmp);
            // Created owner-only: never readable by others, not even for a moment.
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(tmp, password + "\n", StandardCharsets.UTF_8);
            Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            return password;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot keep a password in " + file, e);
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
