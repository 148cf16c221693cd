package dev.bunshin.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.PrintStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * {@code ./bunshin batch FILE.jsonl [-o OUT.jsonl] [--url URL]}: submits a JSONL batch file to a running
 * submitter ({@code POST /v1/batches}), shows progress on stderr until every request has ended, then writes the
 * results in input order to OUT (default {@code FILE.out.jsonl}) and the rejected lines, if any, next to it
 * ({@code FILE.errors.jsonl}). Exit status: 0 all requests completed, 1 some failed or were rejected (results
 * still written), 2 usage or local file problems, 3 the submitter could not be reached or refused the file.
 */
public final class BatchCommand {

    static final String USAGE = """
            usage: ./bunshin batch FILE.jsonl [-o OUT.jsonl] [--url http://127.0.0.1:8080] [--poll-ms 500]
                                  [--api-key KEY]
              FILE.jsonl  one request per line: {"custom_id", "method": "POST", "url": "/v1/chat/completions" |
                          "/v1/completions" | "/v1/jobs", "body": {...}}
              -o OUT      results in input order (default FILE.out.jsonl); rejected lines go to FILE.errors.jsonl
              --api-key   sent as 'Authorization: Bearer KEY' (default: $BUNSHIN_API_KEY)
            """;

    private static final ObjectMapper JSON = new ObjectMapper();

    private final PrintStream err;
    private String apiKey = System.getenv("BUNSHIN_API_KEY");
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    private BatchCommand(PrintStream err) {
        this.err = err;
    }

    /** Entry point for {@code ./bunshin batch}. */
    public static int run(String[] args) {
        return run(args, System.err);
    }

    static int run(String[] args, PrintStream err) {
        return new BatchCommand(err).execute(args);
    }

    private int execute(String[] args) {
        Path file = null;
        Path out = null;
        String url = "http://127.0.0.1:8080";
        long pollMillis = 500;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "-o", "--output", "--url", "--poll-ms", "--api-key" -> {
                    if (i + 1 >= args.length) {
                        err.println("batch: option " + a + " needs a value");
                        return 2;
                    }
                    String v = args[++i];
                    if (a.equals("--url")) {
                        url = v;
                    } else if (a.equals("--api-key")) {
                        apiKey = v;
                    } else if (a.equals("--poll-ms")) {
                        try {
                            pollMillis = Long.parseLong(v);
                        } catch (NumberFormatException e) {
                            err.println("batch: --poll-ms needs a number of milliseconds, got '" + v + "'");
                            return 2;
                        }
                    } else {
                        out = Path.of(v);
                    }
                }
                case "-h", "--help" -> {
                    err.print(USAGE);
                    return 0;
                }
                default -> {
                    if (a.startsWith("-") || file != null) {
                        err.println("batch: unexpected argument '" + a + "'");
                        err.print(USAGE);
                        return 2;
                    }
                    file = Path.of(a);
                }
            }
        }
        if (file == null) {
            err.println("batch: no input file given");
            err.print(USAGE);
            return 2;
        }
        byte[] content;
        try {
            if (!Files.isRegularFile(file)) {
                err.println("batch: " + file + ": no such file");
                return 2;
            }
            content = Files.readAllBytes(file);
        } catch (IOException e) {
            err.println("batch: " + file + ": cannot read: " + e.getMessage());
            return 2;
        }
        if (out == null) {
            out = sibling(file, ".out.jsonl");
        }
        Path errors = errorsPath(out);
        String base = url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
        try {
            HttpResponse<String> created = http.send(request(base + "/v1/batches")
                    .header("Content-Type", "application/jsonl")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(content)).build(), HttpResponse.BodyHandlers.ofString());
            if (created.statusCode() / 100 != 2) {
                err.println("batch: " + file + ": the submitter refused the file: " + errorMessage(created.body()));
                return 3;
            }
            JsonNode batch = JSON.readTree(created.body());
            String id = batch.get("id").asText();
            err.println("batch " + id + ": " + batch.path("counts").path("total").asInt() + " requests from " + file);
            long start = System.nanoTime();
            while (!List.of("completed", "failed", "cancelled", "expired").contains(batch.path("status").asText())) {
                progress(batch, start, false);
                Thread.sleep(pollMillis);
                batch = JSON.readTree(get(base + "/v1/batches/" + id));
            }
            progress(batch, start, true);
            Files.writeString(out, get(base + "/v1/batches/" + id + "/output"), StandardCharsets.UTF_8);
            String errorLines = get(base + "/v1/batches/" + id + "/errors");
            JsonNode c = batch.path("counts");
            int invalid = c.path("invalid").asInt();
            int failed = c.path("failed").asInt() + c.path("cancelled").asInt();
            err.println("batch " + id + " " + batch.path("status").asText() + ": " + c.path("completed").asInt()
                    + " completed, " + failed + " failed, " + invalid + " invalid -> " + out);
            if (!errorLines.isEmpty()) {
                Files.writeString(errors, errorLines, StandardCharsets.UTF_8);
                err.println("rejected lines -> " + errors);
                int shown = 0;
                for (String line : errorLines.split("\n")) {
                    if (line.isBlank() || shown++ == 10) {
                        continue;
                    }
                    JsonNode e = JSON.readTree(line).path("error");
                    err.println("  " + file + ":" + e.path("line").asInt() + ": "
                            + (e.path("param").isTextual() ? e.path("param").asText() + ": " : "") + e.path("message").asText());
                }
            } else {
                Files.deleteIfExists(errors);
            }
            return invalid + failed == 0 && "completed".equals(batch.path("status").asText()) ? 0 : 1;
        } catch (ConnectException e) {
            err.println("batch: cannot reach the submitter at " + base + " (is ./bunshin up running? --url sets it)");
            return 3;
        } catch (IOException e) {
            err.println("batch: " + e.getMessage());
            return 3;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            err.println("batch: interrupted; the batch goes on in the submitter");
            return 3;
        }
    }

    /** A request to the submitter, with the API key when there is one. */
    private HttpRequest.Builder request(String url) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url));
        return apiKey == null || apiKey.isBlank() ? b : b.header("Authorization", "Bearer " + apiKey);
    }

    private String get(String url) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(request(url).GET().build(),
                HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        if (r.statusCode() / 100 != 2) {
            throw new IOException("GET " + url + ": HTTP " + r.statusCode() + ": " + errorMessage(r.body()));
        }
        return r.body();
    }

    /** {@code [#########...........]  12/40 ended  (2 failed, 3 invalid)  7s}, redrawn in place. */
    private void progress(JsonNode batch, long start, boolean last) {
        JsonNode c = batch.path("counts");
        int total = c.path("total").asInt();
        int ended = c.path("completed").asInt() + c.path("failed").asInt() + c.path("cancelled").asInt()
                + c.path("invalid").asInt();
        int width = 30;
        int filled = total == 0 ? width : (int) ((long) ended * width / total);
        long seconds = (System.nanoTime() - start) / 1_000_000_000L;
        err.print("\r[" + "#".repeat(filled) + ".".repeat(width - filled) + "] " + ended + "/" + total + " ended  ("
                + c.path("running").asInt() + " running, " + (c.path("failed").asInt() + c.path("cancelled").asInt())
                + " failed, " + c.path("invalid").asInt() + " invalid)  " + seconds + "s ");
        if (last) {
            err.println();
        }
        err.flush();
    }

    private static String errorMessage(String body) {
        try {
            JsonNode e = JSON.readTree(body).path("error");
            if (e.isObject()) {
                return e.path("message").asText() + (e.path("param").isTextual() ? " (field " + e.path("param").asText() + ")" : "");
            }
        } catch (IOException ignored) {
            // not JSON: show it as it is
        }
        return body.length() > 300 ? body.substring(0, 300) + "..." : body;
    }

    /** FILE.jsonl → FILE + suffix (FILE.out.jsonl). */
    static Path sibling(Path file, String suffix) {
        String name = file.getFileName().toString();
        String stem = name.endsWith(".jsonl") ? name.substring(0, name.length() - 6) : name;
        return file.resolveSibling(stem + suffix);
    }

    /** Where rejected lines go: OUT's name with .out.jsonl (or .jsonl) replaced by .errors.jsonl. */
    static Path errorsPath(Path out) {
        String name = out.getFileName().toString();
        String stem = name.endsWith(".out.jsonl") ? name.substring(0, name.length() - 10)
                : name.endsWith(".jsonl") ? name.substring(0, name.length() - 6) : name;
        return out.resolveSibling(stem + ".errors.jsonl");
    }
}
