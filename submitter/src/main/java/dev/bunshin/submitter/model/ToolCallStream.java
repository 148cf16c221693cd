package dev.bunshin.submitter.model;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A streamed reply split into text to send at once and tool calls parsed at its end. Text that could begin a call
 * is held back, so a client never sees the raw markup of a call as content: in Hermes format the part of a piece
 * that could be the start of {@code <tool_call>}, and everything from a complete marker on; in Llama 3 format a
 * reply that starts with {@code {} or the python tag (a reply that starts with other text is text throughout).
 */
public final class ToolCallStream {

    /**
     * A piece of a call while it is generated: the first piece of a call carries its {@code name} (null on the
     * others) and the start of its arguments; each further piece more of the arguments' JSON text, as the model
     * writes it. Concatenated, a call's pieces are its arguments object.
     */
    public record CallDelta(int index, String name, String arguments) {}

    // `<tool_call>` then `{"name": "…", "arguments": ` (or "parameters") before an object: a call that can stream.
    private static final Pattern HEADER = Pattern.compile(
            "\\s*\\{\\s*\"name\"\\s*:\\s*(\"(?:[^\"\\\\]|\\\\.)*\")\\s*,\\s*\"(?:arguments|parameters)\"\\s*:\\s*(?=\\{)");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ToolCallFormat format;
    private final StringBuilder reply = new StringBuilder();
    private int sent;          // chars of reply already sent as text
    private boolean held;      // a call has begun: the rest is held to the end
    private boolean plain;     // Llama 3: the reply is text, not a call

    // Calls streamed as they are generated (Hermes JSON calls only; see the constructor).
    private enum Phase { HEADER, ARGUMENTS, CLOSE, NEXT, STOPPED }
    private final int liveCalls;                      // how many calls may stream: 0 none
    private final List<CallDelta> pending = new ArrayList<>();
    private Phase phase = Phase.STOPPED;
    private int at;            // HEADER: the call's <tool_call>; ARGUMENTS: the next char to scan; else where to look
    private int streamed;      // calls whose first piece was made
    private int depth;         // nesting of the arguments' JSON at `at`
    private boolean inString;
    private boolean escaped;

    /** A stream that holds calls to the end (Ollama answers whole calls). */
    public ToolCallStream(ToolCallFormat format) {
        this(format, 0);
    }

    /**
     * A stream that also makes each of the first {@code liveCalls} calls into {@link CallDelta}s while it is
     * generated (OpenAI's streamed {@code tool_calls}), when the model writes Hermes JSON calls with the name before
     * an arguments object; a call in any other form (Qwen3-Coder's {@code <function=…>}, arguments before the name,
     * Llama 3's format) and all after it come whole from {@link #finish()}.
     */
    public ToolCallStream(ToolCallFormat format, int liveCalls) {
        this.format = format;
        this.liveCalls = format == ToolCallFormat.LLAMA3 ? 0 : liveCalls;
    }

    /** Adds a piece of the reply; returns the text that may be sent now (possibly empty). */
    public String add(String piece) {
        reply.append(piece);
        if (held) {
            scanCalls();
            return "";
        }
        int until = switch (format) {
            case HERMES, GENERIC -> hermes();
            case LLAMA3 -> llama3();
        };
        String out = reply.substring(sent, until);
        sent = until;
        if (held && liveCalls > 0) {
            at = until;
            phase = Phase.HEADER;
            scanCalls();
        }
        return out;
    }

    /** The call pieces made since the last take, in order. */
    public List<CallDelta> takeCalls() {
        if (pending.isEmpty()) return List.of();
        List<CallDelta> out = List.copyOf(pending);
        pending.clear();
        return out;
    }

    /** How many calls have streamed (their first piece was made): {@link #finish()}'s first calls are these. */
    public int streamedCalls() {
        return streamed;
    }

    private void scanCalls() {
        while (true) {
            switch (phase) {
                case HEADER -> {
                    Matcher m = HEADER.matcher(reply).region(at + ToolCalls.OPEN.length(), reply.length());
                    if (!m.lookingAt()) {
                        if (!m.hitEnd()) phase = Phase.STOPPED; // a call in another form: finish() parses it
                        return;
                    }
                    String name;
                    try {
                        name = JSON.readValue(m.group(1), String.class);
                    } catch (JsonProcessingException e) {
                        phase = Phase.STOPPED;
                        return;
                    }
                    pending.add(new CallDelta(streamed++, name, ""));
                    at = m.end();
                    depth = 0;
                    inString = false;
                    escaped = false;
                    phase = Phase.ARGUMENTS;
                }
                case ARGUMENTS -> {
                    int from = at;
                    boolean complete = false;
                    while (at < reply.length() && !complete) {
                        char c = reply.charAt(at++);
                        if (inString) {
                            if (escaped) escaped = false;
                            else if (c == '\\') escaped = true;
                            else if (c == '"') inString = false;
                        } else if (c == '"') {
                            inString = true;
                        } else if (c == '{' || c == '[') {
                            depth++;
                        } else if (c == '}' || c == ']') {
                            complete = --depth == 0;
                        }
                    }
                    if (at > from) pending.add(new CallDelta(streamed - 1, null, reply.substring(from, at)));
                    if (!complete) return;
                    phase = Phase.CLOSE;
                }
                case CLOSE -> {
                    int close = reply.indexOf(ToolCalls.CLOSE, at);
                    if (close < 0) return;
                    at = close + ToolCalls.CLOSE.length();
                    phase = Phase.NEXT;
                }
                case NEXT -> {
                    int next = reply.indexOf(ToolCalls.OPEN, at);
                    if (next < 0) return;
                    at = next;
                    phase = streamed < liveCalls ? Phase.HEADER : Phase.STOPPED;
                }
                case STOPPED -> {
                    return;
                }
            }
        }
    }

    private int hermes() {
        int at = reply.indexOf(ToolCalls.OPEN, sent);
        if (at >= 0) {
            held = true;
            return at;
        }
        return reply.length() - heldSuffix(reply, sent, ToolCalls.OPEN);
    }

    private int llama3() {
        if (plain) {
            return reply.length();
        }
        String s = reply.toString().stripLeading();
        if (s.startsWith("{") || s.startsWith(ToolCalls.PYTHON_TAG)) {
            held = true;
            return sent;
        }
        if (s.isEmpty() || ToolCalls.PYTHON_TAG.startsWith(s)) {
            return sent;
        }
        plain = true;
        return reply.length();
    }

    /** The length of the longest suffix of {@code s} (from {@code from}) that is a proper prefix of {@code marker}. */
    static int heldSuffix(CharSequence s, int from, String marker) {
        for (int n = Math.min(marker.length() - 1, s.length() - from); n > 0; n--) {
            boolean match = true;
            for (int i = 0; i < n && match; i++) {
                match = s.charAt(s.length() - n + i) == marker.charAt(i);
            }
            if (match) {
                return n;
            }
        }
        return 0;
    }

    /**
     * The reply has ended: what was held back, as calls and the text around them (null: none), or, if it does not
     * parse as calls, as text.
     */
    public ToolCalls.Parsed finish() {
        String rest = reply.substring(sent);
        sent = reply.length();
        if (rest.isEmpty()) {
            return new ToolCalls.Parsed(null, java.util.List.of());
        }
        ToolCalls.Parsed p = ToolCalls.parse(rest, format);
        return p.calls().isEmpty() ? new ToolCalls.Parsed(rest, java.util.List.of()) : p;
    }
}
