package dev.bunshin.launcher;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * {@code ./bunshin demo}: starts everything like {@code up}, submits one job over HTTP, streams its tokens,
 * prints the finished job, submits a small JSONL batch ({@code POST /v1/batches}) and waits for its output, then
 * stops everything. Exit code 0
 * when every job finished, 1 otherwise (with the reason).
 */
public final class Demo {

    static final String PROMPT = "Once upon a time";
    static final List<String> BATCH = List.of("The little dog", "In a small town", "One day, a girl named Lily");
    static final Duration JOB_TIMEOUT = Duration.ofMinutes(5);

    private static final Pattern ID = Pattern.compile("\"id\"\\s*:\\s*\"?([^\",}\\s]+)\"?");

    private Demo() {
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    public static int run(String[] args) {
        PrintStream out = System.out;
        if (UpOptions.wantsHelp(args)) {
            out.print(UpOptions.USAGE.replace("./bunshin up", "./bunshin demo"));
            return 0;
        }
        UpOptions options;
        try {
            options = UpOptions.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("bunshin demo: " + e.getMessage());
            return 2;
        }
        try (LocalStack stack = LocalStack.start(options, out)) {
            out.println("Bunshin is up: " + stack.apiUrl() + " (logs " + stack.logs() + "/*.log)");
            String key = options.apiKey() != null ? options.apiKey()
                    : options.adminKeys() != null ? options.adminKeys().split(",")[0].strip()
                    : System.getenv("BUNSHIN_API_KEY");
            new Client(stack.apiUrl(), stack.modelId(), key, out).demo();
            out.println("Demo finished; stopping.");
            return 0;
        } catch (RuntimeException | IOException e) {
            System.err.println("bunshin demo FAILED: " + e.getMessage());
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            System.err.println("bunshin demo: interrupted");
            return 1;
        }
    }

    /** The HTTP client side of the demo: what any user of the API does. */
    static final class Client {
        private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        private final String api;
        private final String model;
        private final String apiKey;
        private final PrintStream out;

        /** @param apiKey sent as {@code Authorization: Bearer}, or null when the API needs none */
        Client(String api, String model, String apiKey, PrintStream out) {
            this.api = api;
            this.model = model;
            this.apiKey = apiKey;
            this.out = out;
        }

        void demo() throws IOException, InterruptedException {
            out.println();
            out.println("POST " + api + "/v1/jobs  prompt=\"" + PROMPT + "\" max_tokens=32");
            String id = submit(PROMPT, 32);
            out.println("job " + id + " accepted; streaming its tokens:");
            out.print(PROMPT);
            String done = stream(id, true);
            out.println();
            out.println("stream ended: " + done);
            String job = get(id);
            out.println("GET /v1/jobs/" + id + " -> " + job);
            requireFinished(id, done);

            out.println();
            out.println("POST " + api + "/v1/batches  (JSONL, " + BATCH.size() + " requests to /v1/completions)");
            StringBuilder jsonl = new StringBuilder();
            for (int i = 0; i < BATCH.size(); i++) {
                jsonl.append("{\"custom_id\": \"demo-").append(i + 1)
                        .append("\", \"method\": \"POST\", \"url\": \"/v1/completions\", \"body\": {\"model\": ")
                        .append(quote(model)).append(", \"prompt\": ").append(quote(BATCH.get(i)))
                        .append(", \"max_tokens\": 16}}\n");
            }
            HttpResponse<String> created = send(request(api + "/v1/batches")
                    .header("Content-Type", "application/jsonl")
                    .POST(HttpRequest.BodyPublishers.ofString(jsonl.toString())), "POST /v1/batches");
            Matcher m = ID.matcher(created.body());
            if (!m.find()) {
                throw new IllegalStateException("POST /v1/batches answered without an id: " + created.body());
            }
            String batchId = m.group(1);
            out.println("batch " + batchId + " accepted; waiting for it ...");
            long deadline = System.nanoTime() + JOB_TIMEOUT.toNanos();
            String batch;
            String status;
            while (true) {
                batch = send(request(api + "/v1/batches/" + batchId).GET(),
                        "GET /v1/batches/" + batchId).body();
                status = stringField(batch, "status");
                if (!List.of("validating", "in_progress", "finalizing", "cancelling").contains(status)) {
                    break;
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("batch " + batchId + " still " + status + " after " + JOB_TIMEOUT);
                }
                Thread.sleep(500);
            }
            out.println("GET /v1/batches/" + batchId + " -> " + batch);
            if (!"completed".equals(status)) {
                throw new IllegalStateException("batch " + batchId + " ended " + status + ": " + batch);
            }
            String output = send(request(api + "/v1/batches/" + batchId + "/output").GET(),
                    "GET /v1/batches/" + batchId + "/output").body();
            out.println("GET /v1/batches/" + batchId + "/output ->");
            output.lines().forEach(line -> out.println("  " + line));
            if (output.lines().count() != BATCH.size()) {
                throw new IllegalStateException("batch " + batchId + " output has " + output.lines().count()
                        + " lines, expected " + BATCH.size());
            }
        }

        /** A request to the submitter, with the API key when there is one. */
        private HttpRequest.Builder request(String url) {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url));
            return apiKey == null || apiKey.isBlank() ? b : b.header("Authorization", "Bearer " + apiKey);
        }

        private HttpResponse<String> send(HttpRequest.Builder request, String what)
                throws IOException, InterruptedException {
            HttpResponse<String> response = http.send(request.timeout(Duration.ofSeconds(30)).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() / 100 != 2) {
                throw new IllegalStateException(what + " answered HTTP " + response.statusCode() + ": "
                        + response.body());
            }
            return response;
        }

        String submit(String prompt, int maxTokens) throws IOException, InterruptedException {
            String body = "{\"model\": " + quote(model) + ", \"prompt\": " + quote(prompt)
                    + ", \"max_tokens\": " + maxTokens + "}";
            HttpResponse<String> response = http.send(request(api + "/v1/jobs")
                            .timeout(Duration.ofSeconds(30))
                            .header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 202 && response.statusCode() != 200 && response.statusCode() != 201) {
                throw new IllegalStateException("POST /v1/jobs answered HTTP " + response.statusCode() + ": "
                        + response.body());
            }
            Matcher m = ID.matcher(response.body());
            if (!m.find()) {
                throw new IllegalStateException("POST /v1/jobs answered without an id: " + response.body());
            }
            return m.group(1);
        }

        /**
         * Reads the job's server-sent events until the {@code done} event; prints token texts when asked.
         * Returns the done event's data.
         */
        String stream(String id, boolean print) throws IOException, InterruptedException {
            HttpResponse<Stream<String>> response = http.send(
                    request(api + "/v1/jobs/" + id + "/events")
                            .timeout(JOB_TIMEOUT)
                            .header("Accept", "text/event-stream").GET().build(),
                    HttpResponse.BodyHandlers.ofLines());
            if (response.statusCode() != 200) {
                String body;
                try (Stream<String> lines = response.body()) {
                    body = String.join("\n", lines.toList());
                }
                throw new IllegalStateException("GET /v1/jobs/" + id + "/events answered HTTP "
                        + response.statusCode() + ": " + body);
            }
            String event = null;
            StringBuilder data = new StringBuilder();
            try (Stream<String> lines = response.body()) {
                Iterator<String> it = lines.iterator();
                while (it.hasNext()) {
                    String line = it.next();
                    if (line.isEmpty()) { // end of one event
                        if ("done".equals(event)) {
                            return data.toString();
                        }
                        if (print && !data.isEmpty()) {
                            String text = stringField(data.toString(), "text");
                            out.print(text != null ? text : data);
                            out.flush();
                        }
                        event = null;
                        data.setLength(0);
                    } else if (line.startsWith("event:")) {
                        event = line.substring(6).strip();
                    } else if (line.startsWith("data:")) {
                        if (!data.isEmpty()) {
                            data.append('\n');
                        }
                        data.append(line.substring(5).startsWith(" ") ? line.substring(6) : line.substring(5));
                    }
                    // "id:" lines carry the token position (for Last-Event-ID); ":" lines are keep-alives.
                }
            }
            if ("done".equals(event)) {
                return data.toString();
            }
            throw new IllegalStateException("the event stream of job " + id + " ended without a done event");
        }

        String get(String id) throws IOException, InterruptedException {
            HttpResponse<String> response = http.send(request(api + "/v1/jobs/" + id)
                    .timeout(Duration.ofSeconds(30)).GET().build(), HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                throw new IllegalStateException("GET /v1/jobs/" + id + " answered HTTP " + response.statusCode()
                        + ": " + response.body());
            }
            return response.body();
        }

        private static void requireFinished(String id, String done) {
            String status = stringField(done, "status");
            if (status != null && (status.equalsIgnoreCase("failed") || status.equalsIgnoreCase("cancelled")
                    || status.equalsIgnoreCase("canceled"))) {
                throw new IllegalStateException("job " + id + " ended " + status + ": " + done);
            }
        }
    }

    /** The string value of a top-level-looking {@code "name": "..."} in a small JSON object, unescaped; or null. */
    static String stringField(String json, String name) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(name) + "\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"").matcher(json);
        if (!m.find()) {
            return null;
        }
        String s = m.group(1);
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '\\' || i + 1 >= s.length()) {
                sb.append(c);
                continue;
            }
            char e = s.charAt(++i);
            switch (e) {
                case 'n' -> sb.append('\n');
                case 't' -> sb.append('\t');
                case 'r' -> sb.append('\r');
                case 'b' -> sb.append('\b');
                case 'f' -> sb.append('\f');
                case 'u' -> {
                    sb.append((char) Integer.parseInt(s.substring(i + 1, i + 5), 16));
                    i += 4;
                }
                default -> sb.append(e);
            }
        }
        return sb.toString();
    }

    static String quote(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append('"').toString();
    }
}
