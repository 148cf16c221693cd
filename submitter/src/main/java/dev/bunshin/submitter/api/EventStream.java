package dev.bunshin.submitter.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Writes a {@code text/event-stream} (the WHATWG server-sent events format) or NDJSON, flushing after every
 * event so tokens reach the client as they are generated. A write to a client that went away throws
 * IOException, which ends the stream.
 */
public final class EventStream {

    private final OutputStream out;
    private final ObjectMapper mapper;

    public EventStream(OutputStream out, ObjectMapper mapper) {
        this.out = out;
        this.mapper = mapper;
    }

    /**
     * Sends the response headers now, before the first token: a client waits for them, possibly while the job is
     * still queued. An SSE stream starts with a comment (clients ignore comments); an empty flush is not enough
     * to commit the headers.
     */
    public EventStream open() throws IOException {
        out.flush();
        return this;
    }

    /** {@link #open()} for an SSE stream. */
    public EventStream openSse() throws IOException {
        comment("stream of job events");
        return this;
    }

    /** One SSE event; {@code id} and {@code event} are omitted when null. */
    public void event(String id, String event, Object data) throws IOException {
        StringBuilder sb = new StringBuilder();
        if (event != null) {
            sb.append("event: ").append(event).append('\n');
        }
        if (id != null) {
            sb.append("id: ").append(id).append('\n');
        }
        // Jackson writes one line (JSON strings escape their newlines), so one data: field suffices.
        sb.append("data: ").append(data instanceof String s ? s : json(data)).append("\n\n");
        write(sb);
    }

    /** An SSE comment line: keeps proxies and idle timeouts from closing a quiet stream. */
    public void comment(String text) throws IOException {
        write(": " + text + "\n\n");
    }

    /** One NDJSON line. */
    public void line(Object data) throws IOException {
        write(json(data) + "\n");
    }

    private String json(Object data) throws JsonProcessingException {
        return mapper.writeValueAsString(data);
    }

    private void write(CharSequence s) throws IOException {
        out.write(s.toString().getBytes(StandardCharsets.UTF_8));
        out.flush();
    }
}
