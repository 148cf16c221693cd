package dev.bunshin.submitter;

import dev.bunshin.launcher.LocalKafka;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A real Kafka broker for @QuarkusTest (the launcher's {@link LocalKafka}), one for the whole test JVM: every
 * Quarkus start (each test profile) reuses it. The submitter follows job events on it and publishes its own.
 */
public class TestKafka implements QuarkusTestResourceLifecycleManager {

    private static LocalKafka broker;

    /** The broker, started on first use and stopped when the JVM exits. */
    public static synchronized LocalKafka broker() {
        if (broker == null) {
            Path dir = Path.of("target", "test-kafka", Long.toString(System.currentTimeMillis())).toAbsolutePath();
            try {
                Files.createDirectories(dir);
            } catch (IOException e) {
                throw new UncheckedIOException("creating " + dir + ": " + e.getMessage(), e);
            }
            LocalKafka k = LocalKafka.start(dir);
            Runtime.getRuntime().addShutdownHook(new Thread(k::close));
            broker = k;
        }
        return broker;
    }

    @Override
    public Map<String, String> start() {
        return Map.of("kafka.bootstrap.servers", broker().bootstrapServers());
    }

    @Override
    public void stop() {
        // shared by every Quarkus start of this JVM; the shutdown hook stops it
    }
}
