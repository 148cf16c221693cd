package dev.bunshin.cli;

import org.junit.jupiter.api.Test;

import java.net.ServerSocket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code ./bunshin status}'s command line and its errors. Against a real submitter it is tested in the submitter's
 * CliStatusTest and in the e2e module's DashboardIT.
 */
class StatusCommandTest {

    @Test
    void badOptionsAreNamed() {
        Cli r = Cli.run("status", "--bogus");
        assertEquals(2, r.status(), r.toString());
        assertTrue(r.err().contains("unknown option --bogus (options: --api-key, --jobs, --url, --help)"), r.toString());
        r = Cli.run("status", "--url");
        assertEquals(2, r.status());
        assertTrue(r.err().contains("option --url needs a value"), r.toString());
        r = Cli.run("status", "--url", "localhost:8080");
        assertEquals(2, r.status());
        assertTrue(r.err().contains("option --url needs an http(s) URL such as http://127.0.0.1:8080, got \"localhost:8080\""),
                r.toString());
        r = Cli.run("status", "--jobs", "0");
        assertEquals(2, r.status());
        assertTrue(r.err().contains("option --jobs must be >= 1, got 0"), r.toString());
    }

    @Test
    void anUnreachableSubmitterIsReportedWithTheUrlAndTheOption() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort(); // closed again: nothing listens there
        }
        Cli r = Cli.run("status", "--url", "http://127.0.0.1:" + port + "/");
        assertEquals(3, r.status(), r.toString());
        assertTrue(r.err().contains("status: cannot reach the submitter at http://127.0.0.1:" + port
                + " (is ./bunshin up running? --url sets it)"), r.toString());
        assertEquals("", r.out());
    }

    @Test
    void helpListsTheOptionsAndTheDefaultUrl() {
        Cli r = Cli.run("status", "--help");
        assertEquals(0, r.status());
        assertTrue(r.out().contains("--url") && r.out().contains("http://127.0.0.1:8080") && r.out().contains("--api-key"));
        assertTrue(Cli.run("help").out().contains("status [--url URL] [--api-key KEY]"));
    }

    @Test
    void aStageIsDrawnAsItsShareOfTheLayers() {
        assertEquals("#".repeat(20) + ".".repeat(20), StatusCommand.bar(0, 11, 22));
        assertEquals(".".repeat(20) + "#".repeat(20), StatusCommand.bar(11, 22, 22));
        assertEquals(1, StatusCommand.bar(3, 4, 1000).chars().filter(ch -> ch == '#').count(), "never invisible");
    }
}
