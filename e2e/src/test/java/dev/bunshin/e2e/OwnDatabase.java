package dev.bunshin.e2e;

import io.agroal.api.AgroalDataSource;
import io.agroal.api.configuration.supplier.AgroalDataSourceConfigurationSupplier;
import io.agroal.api.exceptionsorter.PostgreSQLExceptionSorter;
import io.agroal.api.security.NamePrincipal;
import io.agroal.api.security.SimplePassword;
import org.flywaydb.core.Flyway;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;

/**
 * A database of its own on the shared PostgreSQL server ({@link Infra}), migrated, behind a pool configured as the
 * apps' (Agroal, PostgreSQL's exception sorter: a connection that failed fatally is discarded, not reused). A test
 * can take it away — every session ended, new connections refused, as when the server is down — and give it back,
 * without disturbing the other tests' database.
 */
final class OwnDatabase implements AutoCloseable {

    final String name;
    final AgroalDataSource db;
    private final Infra infra;

    private OwnDatabase(Infra infra, String name) throws SQLException {
        this.infra = infra;
        this.name = name;
        this.db = AgroalDataSource.from(new AgroalDataSourceConfigurationSupplier()
                .connectionPoolConfiguration(cp -> cp.maxSize(20)
                        .exceptionSorter(new PostgreSQLExceptionSorter())
                        .acquisitionTimeout(Duration.ofSeconds(5))
                        .connectionFactoryConfiguration(cf -> cf.jdbcUrl(infra.postgres.jdbcUrl(name))
                                .principal(new NamePrincipal(infra.postgres.user()))
                                .credential(new SimplePassword(infra.postgres.password())))));
        Flyway.configure().dataSource(db).locations("classpath:db/migration").load().migrate();
    }

    static OwnDatabase create(Infra infra, String prefix) throws SQLException {
        String name = prefix + "_" + System.nanoTime() % 1_000_000;
        admin(infra, "CREATE DATABASE " + name);
        return new OwnDatabase(infra, name);
    }

    /** Ends every session of this database and refuses new ones (SQLState 55000) until {@link #giveBack}. */
    void takeAway() throws SQLException {
        admin(infra, "ALTER DATABASE " + name + " ALLOW_CONNECTIONS false",
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + name + "'");
    }

    void giveBack() throws SQLException {
        admin(infra, "ALTER DATABASE " + name + " ALLOW_CONNECTIONS true");
    }

    @Override
    public void close() throws SQLException {
        db.close();
        admin(infra, "ALTER DATABASE " + name + " ALLOW_CONNECTIONS true", "DROP DATABASE " + name + " WITH (FORCE)");
    }

    private static void admin(Infra infra, String... statements) throws SQLException {
        try (Connection c = DriverManager.getConnection(infra.postgres.jdbcUrl("postgres"), infra.postgres.user(),
                infra.postgres.password()); Statement st = c.createStatement()) {
            for (String s : statements) st.execute(s);
        }
    }
}
