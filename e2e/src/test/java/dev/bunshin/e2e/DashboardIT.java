package dev.bunshin.e2e;

import dev.bunshin.cli.Main;
import dev.bunshin.launcher.LocalStack;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The dashboard in a real headless browser against the whole system as {@code ./bunshin up --api-key} starts it (a
 * real Kafka broker and PostgreSQL, the packaged scheduler and submitter, two stage workers generating with
 * stories260K): Debian's chromium, driven by playwright-core from src/test/node/dashboard.mjs, types the API key the
 * page asks for, finds both workers and the plan bar, submits a prompt from the page and sees its text while it
 * streams, and saves a screenshot to target/dashboard.png. Then {@code ./bunshin status} reads the same stack.
 *
 * <p>scripts/install-browser.sh installs chromium (apt-get, as root) and playwright-core (npm ci) when missing; where
 * it cannot, this test fails and says why. Run by {@code mvn verify} (it needs the packaged apps).
 */
class DashboardIT {

    static final Path NODE_DIR = UpStack.HOME.resolve("e2e/src/test/node");
    static final Path SCREENSHOT = Path.of("target/dashboard.png").toAbsolutePath();
    static final String KEY = "dashboard-it-key";
    static final String ADMIN = "dashboard-it-admin";

    static LocalStack stack;

    @BeforeAll
    static void up() throws Exception {
        // First what the browser needs: a missing chromium should fail in seconds, not after the stack is up.
        Command.run(List.of("bash", UpStack.HOME.resolve("scripts/install-browser.sh").toString()), UpStack.HOME,
                Map.of(), 600);
        stack = UpStack.start("dashboard-it", "--api-key", KEY, "--admin-key", ADMIN);
    }

    @AfterAll
    static void down() {
        if (stack != null) {
            stack.close();
        }
    }

    @Test
    void theDashboardShowsTheClusterAndStreamsAJobInARealBrowser() throws Exception {
        Files.deleteIfExists(SCREENSHOT);
        String out = Command.run(List.of("node", "dashboard.mjs"), NODE_DIR, Map.of("BUNSHIN_URL", stack.apiUrl(),
                "BUNSHIN_API_KEY", KEY, "WORKERS", "2", "SCREENSHOT", SCREENSHOT.toString()), 180);
        assertTrue(out.contains("PASS dashboard 0 failed"), out);
        assertTrue(Files.size(SCREENSHOT) > 10_000, "screenshot " + SCREENSHOT);

        // What the page showed is the job's text as the API has it.
        String job = out.lines().filter(l -> l.startsWith("JOB ")).findFirst().orElseThrow().substring(4);
        String text = out.lines().filter(l -> l.startsWith("TEXT ")).findFirst().orElseThrow().substring(5);
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create(stack.apiUrl() + "/v1/jobs/" + job)).header("Authorization", "Bearer " + KEY).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.body().contains("\"text\":" + text), "page text " + text + " vs " + r.body());

        // up --admin-key: the operator's key sees the tenant's job too; an unknown key sees nothing.
        HttpResponse<String> admin = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create(stack.apiUrl() + "/v1/jobs/" + job)).header("Authorization", "Bearer " + ADMIN).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, admin.statusCode(), admin.body());
        assertEquals(401, HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create(stack.apiUrl() + "/v1/jobs/" + job)).header("Authorization", "Bearer nobody").build(),
                HttpResponse.BodyHandlers.ofString()).statusCode());
    }

    @Test
    void statusPrintsTheSameClusterInATerminal() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int status = Main.run(new String[] {"status", "--url", stack.apiUrl(), "--api-key", KEY},
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        String text = out.toString(StandardCharsets.UTF_8);
        System.out.println(text);
        assertEquals(0, status, err.toString(StandardCharsets.UTF_8));
        assertEquals(2, text.lines().filter(l -> l.matches("\\S+\\s+\\S+\\s+live\\s+java\\s.*")).count(), text);
        assertEquals(2, text.lines().filter(l -> l.matches("\\d\\s+\\S+\\s+\\[\\d+, \\d+\\)\\s+\\|[.#]+\\|")).count(), text);

        int refused = Main.run(new String[] {"status", "--url", stack.apiUrl(), "--api-key", "wrong"},
                new PrintStream(new ByteArrayOutputStream()), new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(3, refused);
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("needs an API key: invalid API key (--api-key KEY"), err.toString());
    }
}
