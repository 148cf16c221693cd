package dev.bunshin.submitter;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * A minimal server-sent-events reader over java.net.http, as a browser's EventSource would read the stream:
 * fields {@code id}, {@code event}, {@code data}, events ended by a blank line, comments skipped.
 */
final class SseClient implements AutoCloseable {

    record Event(String id, String event, String data) {}

    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    final HttpResponse<InputStream> response;
    private final BufferedReader reader;
    /** Comment lines seen (keep-alives). */
    int comments;

    private SseClient(HttpResponse<InputStream> response) {
        this.response = response;
        this.reader = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8));
    }

    static SseClient open(URI uri, String lastEventId) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).header("Accept", "text/event-stream").GET();
        if (lastEventId != null) {
            b.header("Last-Event-ID", lastEventId);
        }
        return new SseClient(HTTP.send(b.build(), HttpResponse.BodyHandlers.ofInputStream()));
    }

    /** POSTs a JSON body to a streaming route (OpenAI's, Ollama's) and opens its stream. */
    static SseClient post(URI uri, String json) throws IOException, InterruptedException {
        HttpRequest r = HttpRequest.newBuilder(uri).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build();
        return new SseClient(HTTP.send(r, HttpResponse.BodyHandlers.ofInputStream()));
    }

    /** The next event, or null at the end of the stream. */
    Event next() throws IOException {
        String id = null, event = null;
        StringBuilder data = null;
        String line;
        while ((line = reader.readLine()) != null) {
            if (line.isEmpty()) {
                if (data != null) {
                    return new Event(id, event, data.toString());
                }
                continue;
            }
            if (line.startsWith(":")) {
                comments++;
                continue;
            }
            int colon = line.indexOf(':');
            String field = colon < 0 ? line : line.substring(0, colon);
            String value = colon < 0 ? "" : line.substring(colon + 1);
            if (value.startsWith(" ")) {
                value = value.substring(1);
            }
            switch (field) {
                case "id" -> id = value;
                case "event" -> event = value;
                case "data" -> data = data == null ? new StringBuilder(value) : data.append('\n').append(value);
                default -> { }
            }
        }
        return null;
    }

    @Override
    public void close() throws IOException {
        reader.close();
    }
}
