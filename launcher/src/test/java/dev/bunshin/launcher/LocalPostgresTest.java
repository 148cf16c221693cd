package dev.bunshin.launcher;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LocalPostgresTest {

    @Test
    void dataSurvivesARestartOnTheSameDirectoryAndServersAreGoneAfterClose() throws Exception {
        Path dir = TestDirs.fresh("postgres");
        List<Long> firstPids;
        try (LocalPostgres postgres = LocalPostgres.start(dir)) {
            assertTrue(postgres.jdbcUrl().endsWith("/" + LocalPostgres.DATABASE), postgres.jdbcUrl());
            try (Connection c = postgres.connect(); Statement s = c.createStatement()) {
                s.execute("CREATE TABLE jobs_probe (id bigint PRIMARY KEY, prompt text NOT NULL)");
                s.execute("INSERT INTO jobs_probe VALUES (1, 'Once upon a time')");
            }
            firstPids = postgres.pids();
            assertTrue(firstPids.size() > 1, "postmaster and its helper processes: " + firstPids);
        }
        for (long pid : firstPids) {
            TestDirs.assertGone(pid);
        }

        long secondPid;
        try (LocalPostgres postgres = LocalPostgres.start(dir)) {
            secondPid = postgres.pid();
            try (Connection c = postgres.connect(); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT prompt FROM jobs_probe WHERE id = 1")) {
                assertTrue(rs.next(), "row written before the restart");
                assertEquals("Once upon a time", rs.getString(1));
                assertFalse(rs.next());
            }
        }
        TestDirs.assertGone(secondPid);
    }

    @Test
    void aServerStillRunningOnTheDataDirectoryIsNamedWithWhatToDo() throws Exception {
        Path dir = TestDirs.fresh("postgres-left-over");
        try (LocalPostgres running = LocalPostgres.start(dir)) {
            IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                    () -> LocalPostgres.start(dir).close());
            assertTrue(e.getMessage().startsWith("PostgreSQL (pid " + running.pid() + ") still runs on "
                    + dir.toAbsolutePath().resolve("pgdata")), e.getMessage());
            assertTrue(e.getMessage().contains("stop it with `kill -INT " + running.pid() + "`"), e.getMessage());
            assertTrue(running.isAlive(), "the running server is left alone");
        }
    }

    @Test
    void wrongPasswordIsRefused() throws Exception {
        try (LocalPostgres postgres = LocalPostgres.start(TestDirs.fresh("postgres-auth"))) {
            var e = org.junit.jupiter.api.Assertions.assertThrows(java.sql.SQLException.class,
                    () -> java.sql.DriverManager.getConnection(postgres.jdbcUrl(), postgres.user(), "wrong").close());
            assertTrue(e.getMessage().contains("password authentication failed"), e.getMessage());
        }
    }
}
