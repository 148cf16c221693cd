package dev.bunshin.e2e;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The jobs API as a client sees it: submit a greedy job, read it, wait for it to end. */
final class ApiClient {

    private static final Pattern ID = Pattern.compile("\"id\":\\s*(\\d+)");
    private static final Pattern STATUS = Pattern.compile("\"status\":\"([a-z_]+)\"");
    private static final Pattern TEXT = Pattern.compile("\"text\":\"((?:[^\"\\\\]|\\\\.)*)\"");
    private static final Pattern TOKENS = Pattern.compile("\"token_count\":\\s*(\\d+)");

    private final String api;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    ApiClient(String api) {
        this.api = api;
    }

    /** POST /v1/jobs with temperature 0; returns the job id. */
    long submit(String prompt, int maxTokens) throws Exception {
        HttpResponse<String> posted = http.send(HttpRequest.newBuilder(URI.create(api + "/v1/jobs"))
                .timeout(Duration.ofSeconds(30)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\": \"" + prompt + "\", \"max_tokens\": "
                        + maxTokens + ", \"temperature\": 0}"))
                .build(), HttpResponse.BodyHandlers.ofString());
        if (posted.statusCode() != 202) {
            throw new AssertionError("POST /v1/jobs answered " + posted.statusCode() + ": " + posted.body());
        }
        return Long.parseLong(group(ID, posted.body()));
    }

    /** GET /v1/jobs/{id}: the body. */
    String job(long id) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(api + "/v1/jobs/" + id))
                .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new AssertionError("GET /v1/jobs/" + id + " answered " + r.statusCode() + ": " + r.body());
        }
        return r.body();
    }

    /** Whether the API answers at all (any HTTP status). */
    boolean answers() {
        try {
            http.send(HttpRequest.newBuilder(URI.create(api + "/v1/models")).timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.discarding());
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    /** Polls the job until it is completed, failed or cancelled, or {@code timeout} passes; returns the last body. */
    String awaitEnd(long id, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        String body = job(id);
        while (System.nanoTime() < deadline && !ended(body)) {
            Thread.sleep(200);
            body = job(id);
        }
        return body;
    }

    static boolean ended(String body) {
        String status = status(body);
        return status.equals("completed") || status.equals("failed") || status.equals("cancelled");
    }

    static String status(String body) {
        return group(STATUS, body);
    }

    static String text(String body) {
        return group(TEXT, body);
    }

    static int tokenCount(String body) {
        return Integer.parseInt(group(TOKENS, body));
    }

    private static String group(Pattern p, String body) {
        Matcher m = p.matcher(body);
        if (!m.find()) {
            throw new AssertionError("no " + p + " in " + body);
        }
        return m.group(1);
    }
}
