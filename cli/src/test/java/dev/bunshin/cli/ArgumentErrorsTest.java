package dev.bunshin.cli;

import dev.bunshin.engine.TestModels;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ArgumentErrorsTest {

    private static void usageError(String expected, String... args) {
        Cli r = Cli.run(args);
        assertEquals(2, r.status(), r.toString());
        assertTrue(r.err().contains(expected), "expected \"" + expected + "\" in:\n" + r);
        assertEquals("", r.out(), "errors go to stderr");
    }

    @Test
    void unknownOptionIsNamedWithTheKnownOnes() {
        usageError("unknown option --bogus", "generate", "--model", "m", "--prompt", "p", "--bogus", "1");
        usageError("--max-tokens", "generate", "--bogus=1");
    }

    @Test
    void missingValueNamesTheOption() {
        usageError("option --prompt needs a value", "generate", "--model", "m", "--prompt");
    }

    @Test
    void requiredOptionsAreNamed() {
        usageError("option --model is required", "generate", "--prompt", "hello");
        usageError("option --prompt is required", "generate", "--model", "m");
        usageError("option --vectors is required", "tokenize", "--model", "m");
        usageError("option --nodes is required", "plan", TestModels.stories260K().toString());
        usageError("missing MODEL", "inspect");
    }

    @Test
    void badNumbersNameTheOption() {
        usageError("option --max-tokens needs an integer, got \"many\"", "generate", "--model", "m", "--prompt", "p",
                "--max-tokens", "many");
        usageError("option --temperature needs a number", "generate", "--model", "m", "--prompt", "p",
                "--temperature", "hot");
        usageError("option --top-p must be in [0.0, 1.0]", "generate", "--model", "m", "--prompt", "p", "--top-p", "2");
        usageError("option --nodes must be >= 1, got 0", "plan", "m", "--nodes", "0");
        usageError("option --jobs: expected job counts like 1,4,16, got \"1,x\"", "bench", "pipeline", "m", "--jobs", "1,x");
        usageError("option --jobs: expected job counts like 1,4,16, got \"4,0\"", "bench", "pipeline", "m", "--jobs", "4,0");
        usageError("option --workers must be >= 1, got 0", "bench", "pipeline", "m", "--workers", "0");
        usageError("option --memory: bad value \"lots\"", "plan", "m", "--nodes", "2", "--memory", "8G,lots");
        usageError("option --speed has 3 values but --nodes is 2", "plan", "m", "--nodes", "2", "--speed", "1,2,3");
        usageError("option --stages is 9 but stories260K has only 5 layers", "generate", "--model",
                TestModels.stories260K().toString(), "--prompt", "p", "--stages", "9");
    }

    @Test
    void workerJoinOptionsAreNamedWithTheirValues() {
        String db = "jdbc:postgresql://10.0.0.5:5432/bunshin";
        usageError("bunshin worker: option --join is required", "worker", "--database", db, "--model", "m",
                "--db-password", "p");
        usageError("--join must be HOST[:PORT][,HOST[:PORT]...]: h:port", "worker", "--join", "h:port",
                "--database", db, "--model", "m", "--db-password", "p");
        usageError("--database must be a jdbc:postgresql://HOST:PORT/DATABASE URL: 10.0.0.5", "worker", "--join", "h",
                "--database", "10.0.0.5", "--model", "m", "--db-password", "p");
        usageError("--memory must be whole GiB like 8G: 8GB", "worker", "--join", "h", "--database", db,
                "--model", "m", "--db-password", "p", "--memory", "8GB");
        usageError("--db-password-file /no/such/pw: cannot read it", "worker", "--join", "h", "--database", db,
                "--model", "m", "--db-password-file", "/no/such/pw");
        // up --bind: an address this machine does not have (TEST-NET-3) is refused before anything starts.
        usageError("bunshin up: --bind 203.0.113.254: not an address of this machine", "up", "--bind", "203.0.113.254");
        usageError("bunshin up: --kafka-port must be a port in 0..65535: 99999", "up", "--kafka-port", "99999");
        usageError("--model no-such-model-xyz", "worker", "--join", "h", "--database", db,
                "--model", "no-such-model-xyz", "--db-password", "p");
    }

    @Test
    void unknownCommandListsTheCommands() {
        usageError("unknown command frobnicate (commands: models, inspect, plan", "frobnicate");
        usageError("bench: unknown benchmark turbo", "bench", "turbo");
    }

    @Test
    void unknownModelListsWhatIsAvailable() {
        Cli r = Cli.run("inspect", "no-such-model", "--dir", TestModels.stories260K().getParent().toString(),
                "--ollama", "/nonexistent-ollama");
        assertEquals(1, r.status(), r.toString());
        assertTrue(r.err().contains("model no-such-model not found") && r.err().contains("available: stories260K"),
                r.toString());
    }

    @Test
    void helpGoesToStdout() {
        Cli r = Cli.run("help");
        assertEquals(0, r.status());
        assertTrue(r.out().contains("plan MODEL --nodes N"), r.out());
    }
}
