package dev.bunshin.launcher;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WorkerOptionsTest {

    static final String DB = "jdbc:postgresql://10.0.0.5:5432/bunshin";

    @Test
    void parsesTheJoinCommandThatUpPrints() throws Exception {
        Path file = Files.writeString(TestDirs.fresh("worker-options").resolve("pw"), "s3cret\n");
        WorkerOptions o = WorkerOptions.parse(new String[] {"--join", "10.0.0.5", "--database", DB,
                "--db-password-file", file.toString(), "--model", "llama3.2:1b", "--memory=8G", "--threads", "4",
                "--id", "box-2"}, Map.of());
        assertEquals("10.0.0.5:9092", o.kafka());
        assertEquals(DB, o.database());
        assertEquals("bunshin", o.dbUser());
        assertEquals("s3cret", o.dbPassword());
        assertEquals("llama3.2:1b", o.model());
        assertNull(o.modelId());
        assertEquals(8, o.memoryGiB());
        assertEquals(4, o.threads());
        assertEquals("box-2", o.id());
    }

    @Test
    void thePasswordMayComeFromTheEnvironmentAndTheIdDefaultsToTheHostName() {
        WorkerOptions o = WorkerOptions.parse(new String[] {"--join", "k1:19092,k2", "--database", DB, "--model",
                "m.gguf", "--model-id", "m"}, Map.of(WorkerOptions.PASSWORD_ENV, "fromenv"));
        assertEquals("fromenv", o.dbPassword());
        assertEquals("k1:19092,k2:9092", o.kafka());
        assertEquals("m", o.modelId());
        assertTrue(o.id().matches("[A-Za-z0-9][A-Za-z0-9._-]*"), o.id());
        assertEquals(0, o.memoryGiB());
    }

    @Test
    void badInputNamesTheOptionAndTheValue() {
        String[] base = {"--database", DB, "--model", "m", "--db-password", "p"};
        assertError("option --join is required", base);
        assertError("--join must be HOST[:PORT][,HOST[:PORT]...]: h:x", "--join", "h:x", "--database", DB,
                "--model", "m", "--db-password", "p");
        assertError("option --database is required", "--join", "h", "--model", "m", "--db-password", "p");
        assertError("--database must be a jdbc:postgresql://HOST:PORT/DATABASE URL: postgres://h/db", "--join", "h",
                "--database", "postgres://h/db", "--model", "m", "--db-password", "p");
        assertError("option --model is required", "--join", "h", "--database", DB, "--db-password", "p");
        assertError("the database password is missing: pass --db-password-file F, or set BUNSHIN_DB_PASSWORD",
                "--join", "h", "--database", DB, "--model", "m");
        assertError("--db-password and --db-password-file: give one of them", "--join", "h", "--database", DB,
                "--model", "m", "--db-password", "p", "--db-password-file", "f");
        assertError("--db-password-file /no/such/file: cannot read it", "--join", "h", "--database", DB,
                "--model", "m", "--db-password-file", "/no/such/file");
        assertError("--memory must be whole GiB like 8G: lots", "--join", "h", "--database", DB, "--model", "m",
                "--db-password", "p", "--memory", "lots");
        assertError("--threads needs a number: many", "--join", "h", "--database", DB, "--model", "m",
                "--db-password", "p", "--threads", "many");
        assertError("--id must be letters, digits", "--join", "h", "--database", DB, "--model", "m",
                "--db-password", "p", "--id", "two words");
        assertError("unknown option: --bogus", "--join", "h", "--bogus", "1");
        assertError("option --join needs a value", "--join");
    }

    private static void assertError(String expected, String... args) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> WorkerOptions.parse(args, Map.of()));
        assertTrue(e.getMessage().contains(expected), "expected \"" + expected + "\" in: " + e.getMessage());
    }
}
