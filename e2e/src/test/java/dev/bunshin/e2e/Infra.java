package dev.bunshin.e2e;

import dev.bunshin.launcher.LocalKafka;
import dev.bunshin.launcher.LocalPostgres;
import org.flywaydb.core.Flyway;
import org.postgresql.ds.PGSimpleDataSource;

import javax.sql.DataSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** One real Kafka broker and one real PostgreSQL for the whole test JVM, started on first use. */
final class Infra {

    private static Infra instance;

    final LocalKafka kafka;
    final LocalPostgres postgres;
    final DataSource db;

    private Infra(LocalKafka kafka, LocalPostgres postgres) {
        this.kafka = kafka;
        this.postgres = postgres;
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setURL(postgres.jdbcUrl());
        ds.setUser(postgres.user());
        ds.setPassword(postgres.password());
        this.db = ds;
        Flyway.configure().dataSource(ds).locations("classpath:db/migration").load().migrate();
    }

    static synchronized Infra get() {
        if (instance == null) {
            // Under target/, not a mode-700 temp dir: as root, PostgreSQL's OS user must be able to enter it.
            Path dir = Path.of("target", "e2e-data", Long.toString(System.currentTimeMillis())).toAbsolutePath();
            try {
                Files.createDirectories(dir);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            LocalKafka kafka = LocalKafka.start(dir.resolve("kafka"));
            LocalPostgres postgres = LocalPostgres.start(dir.resolve("postgres"));
            instance = new Infra(kafka, postgres);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                postgres.close();
                kafka.close();
            }));
        }
        return instance;
    }
}
