package dev.bunshin.e2e;

import dev.bunshin.launcher.LocalKafka;
import dev.bunshin.launcher.LocalPostgres;
import org.flywaydb.core.Flyway;
import io.agroal.api.AgroalDataSource;
import io.agroal.api.configuration.supplier.AgroalDataSourceConfigurationSupplier;
import io.agroal.api.security.NamePrincipal;
import io.agroal.api.security.SimplePassword;

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
        // A connection pool, as the apps have (Agroal, what Quarkus uses): a new connection per tail batch would
        // measure PostgreSQL's connection setup, not the pipeline.
        try {
            this.db = AgroalDataSource.from(new AgroalDataSourceConfigurationSupplier()
                    .connectionPoolConfiguration(cp -> cp.maxSize(50)
                            .connectionFactoryConfiguration(cf -> cf.jdbcUrl(postgres.jdbcUrl())
                                    .principal(new NamePrincipal(postgres.user()))
                                    .credential(new SimplePassword(postgres.password())))));
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException("cannot create the connection pool", e);
        }
        Flyway.configure().dataSource(db).locations("classpath:db/migration").load().migrate();
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
