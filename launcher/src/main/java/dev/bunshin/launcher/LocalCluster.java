package dev.bunshin.launcher;

import java.nio.file.Path;
import java.util.Objects;

/**
 * A real Kafka broker and a real PostgreSQL for one test class or one local run: what an integration test of a
 * Bunshin app starts before the app.
 *
 * <pre>{@code
 * static LocalCluster cluster;
 * @BeforeAll static void up() { cluster = LocalCluster.start(Path.of("target/local-cluster")); }
 * @AfterAll static void down() { cluster.close(); }
 * }</pre>
 *
 * For a {@code @QuarkusTest}, {@link #quarkusConfig()} gives the properties to set (from a
 * {@code QuarkusTestResourceLifecycleManager}). As root, pick a directory every parent of which is o+x
 * (a project's {@code target/} is; a JUnit {@code @TempDir} is not): see {@link LocalPostgres}.
 */
public final class LocalCluster implements AutoCloseable {

    private final LocalKafka kafka;
    private final LocalPostgres postgres;

    private LocalCluster(LocalKafka kafka, LocalPostgres postgres) {
        this.kafka = kafka;
        this.postgres = postgres;
    }

    /** Starts Kafka in {@code dir/kafka} and PostgreSQL in {@code dir/postgres}, both on free ports. */
    public static LocalCluster start(Path dir) {
        Objects.requireNonNull(dir, "dir == null");
        LocalPostgres postgres = LocalPostgres.start(dir.resolve("postgres"));
        try {
            return new LocalCluster(LocalKafka.start(dir.resolve("kafka")), postgres);
        } catch (RuntimeException e) {
            postgres.close();
            throw e;
        }
    }

    public LocalKafka kafka() {
        return kafka;
    }

    public LocalPostgres postgres() {
        return postgres;
    }

    /** The config keys every Bunshin app reads, for this cluster. */
    public java.util.Map<String, String> quarkusConfig() {
        return java.util.Map.of(
                "kafka.bootstrap.servers", kafka.bootstrapServers(),
                "quarkus.datasource.jdbc.url", postgres.jdbcUrl(),
                "quarkus.datasource.username", postgres.user(),
                "quarkus.datasource.password", postgres.password(),
                "quarkus.devservices.enabled", "false");
    }

    /** Stops Kafka, then PostgreSQL. */
    @Override
    public void close() {
        try {
            kafka.close();
        } finally {
            postgres.close();
        }
    }
}
