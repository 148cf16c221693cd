package dev.bunshin.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Local behaviour of {@code ./bunshin batch}: arguments, unreadable files, an unreachable submitter. Submitting to
 * a real submitter is tested in the submitter module (CliBatchTest), against the running app and database.
 */
class BatchCommandTest {

    @TempDir
    Path dir;

    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        return BatchCommand.run(args, new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    private String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void aMissingFileIsNamed() {
        assertEquals(2, run(dir.resolve("nope.jsonl").toString()));
        assertTrue(err().contains("nope.jsonl: no such file"), err());
    }

    @Test
    void anUnreadableFileIsNamed() throws Exception {
        Path f = Files.writeString(dir.resolve("secret.jsonl"), "{}\n");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("---------"));
        if (Files.isReadable(f)) {
            // root reads anything: a directory given as the file is unreadable as a file for everyone
            assertEquals(2, run(dir.toString()));
            assertTrue(err().contains(dir + ": no such file"), err());
        } else {
            assertEquals(2, run(f.toString()));
            assertTrue(err().contains("secret.jsonl: cannot read"), err());
        }
    }

    @Test
    void badArgumentsPrintUsage() {
        assertEquals(2, run());
        assertTrue(err().contains("no input file"), err());
        assertEquals(2, run("a.jsonl", "b.jsonl"));
        assertEquals(2, run("a.jsonl", "-o"));
        assertTrue(err().contains("-o needs a value"), err());
        assertEquals(2, run("a.jsonl", "--poll-ms", "soon"));
        assertEquals(0, run("--help"));
        assertTrue(err().contains("usage: ./bunshin batch"));
    }

    @Test
    void anUnreachableSubmitterIsReported() throws Exception {
        Path f = Files.writeString(dir.resolve("in.jsonl"), "{\"custom_id\":\"a\"}\n");
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort(); // closed again: nothing listens there
        }
        assertEquals(3, run(f.toString(), "--url", "http://127.0.0.1:" + port));
        assertTrue(err().contains("cannot reach the submitter at http://127.0.0.1:" + port), err());
    }

    @Test
    void outputPathsSitNextToTheInput() {
        assertEquals(Path.of("/d/x.out.jsonl"), BatchCommand.sibling(Path.of("/d/x.jsonl"), ".out.jsonl"));
        assertEquals(Path.of("/d/x.errors.jsonl"), BatchCommand.errorsPath(Path.of("/d/x.out.jsonl")));
        assertEquals(Path.of("/d/r.errors.jsonl"), BatchCommand.errorsPath(Path.of("/d/r.jsonl")));
        assertEquals(Path.of("/d/r.txt.errors.jsonl"), BatchCommand.errorsPath(Path.of("/d/r.txt")));
    }
}
