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

    // `{"name": "…", "arguments": ` (or "parameters") before an object: a JSON call that can stream.
    private static final String JSON_HEADER =
            "\\s*\\{\\s*\"name\"\\s*:\\s*(\"(?:[^\"\\\\]|\\\\.)*\")\\s*,\\s*\"(?:arguments|parameters)\"\\s*:\\s*(?=\\{)";
    private static final Pattern HEADER = Pattern.compile(JSON_HEADER);
    // Llama 3: calls one after another, separated by whitespace or `;`, the first maybe after the python tag.
    private static final Pattern LLAMA3_HEADER = Pattern.compile(
            "[\\s;]*(?:" + Pattern.quote(ToolCalls.PYTHON_TAG) + ")?" + JSON_HEADER);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ToolCallFormat format;
    private final StringBuilder reply = new StringBuilder();
    private int sent;          // chars of reply already sent as text
    private boolean held;      // a call has begun: the rest is held to the end
    private boolean plain;     // Llama 3: the reply is text, not a call

    // Calls streamed as they are generated (see the constructor).
    private enum Phase { HEADER, ARGUMENTS, XML_NAME, XML_PARAMETER, XML_VALUE, CLOSE, NEXT, STOPPED }
    // How a Qwen3-Coder value streams: not known yet, as a JSON string while generated, or whole at its close tag.
    private enum Value { UNKNOWN, STRING, WHOLE }
    private final int liveCalls;                      // how many calls may stream: 0 none
    private final List<CallDelta> pending = new ArrayList<>();
    private Phase phase = Phase.STOPPED;
    private int at;            // HEADER: the call's <tool_call> (Llama 3: where its text starts); else the next char to scan
    private int streamed;      // calls whose first piece was made
    private int depth;         // nesting of the arguments' JSON at `at`
    private boolean inString;
    private boolean escaped;
    private int parameters;    // XML: parameters of the current call streamed so far
    private int valueFrom;     // XML: the first char after the current parameter's open tag
    private Value value = Value.UNKNOWN;

    /** A stream that holds calls to the end (Ollama answers whole calls). */
    public ToolCallStream(ToolCallFormat format) {
        this(format, 0);
    }

    /**
     * A stream that also makes each of the first {@code liveCalls} calls into {@link CallDelta}s while it is
     * generated (OpenAI's streamed {@code tool_calls}): Hermes JSON calls and Llama 3 calls with the name before an
     * arguments object, and Qwen3-Coder's {@code <function=…>} calls, whose arguments object is written as the
     * parameters come (a value streams as a JSON string while generated when its first character shows it cannot be
     * JSON, else it comes whole at its close tag, converted as {@link ToolCalls} converts it). A call in any other
     * form (arguments before the name, arguments given as a string) and all after it come whole from
     * {@link #finish()}.
     */
    public ToolCallStream(ToolCallFormat format, int liveCalls) {
        this.format = format;
        this.liveCalls = liveCalls;
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
                    boolean llama3 = format == ToolCallFormat.LLAMA3;
                    int from = llama3 ? at : at + ToolCalls.OPEN.length();
                    if (!llama3) {
                        int s = from;
                        while (s < reply.length() && Character.isWhitespace(reply.charAt(s))) s++;
                        String head = reply.substring(s, Math.min(reply.length(), s + ToolCalls.FUNCTION.length()));
                        if (head.equals(ToolCalls.FUNCTION)) {
                            at = s + head.length();
                            phase = Phase.XML_NAME;
                            continue;
                        }
                        if (ToolCalls.FUNCTION.startsWith(head) && !head.isEmpty()) return;
                    }
                    Matcher m = (llama3 ? LLAMA3_HEADER : HEADER).matcher(reply).region(from, reply.length());
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
                case XML_NAME -> {
                    int end = reply.indexOf(">", at);
                    if (end < 0) return;
                    String name = reply.substring(at, end).strip();
                    if (name.isEmpty()) {
                        phase = Phase.STOPPED; // not a call: finish() answers it as text
                        return;
                    }
                    pending.add(new CallDelta(streamed++, name, ""));
                    pending.add(new CallDelta(streamed - 1, null, "{"));
                    parameters = 0;
                    at = end + 1;
                    phase = Phase.XML_PARAMETER;
                }
                case XML_PARAMETER -> {
                    int open = reply.indexOf(ToolCalls.PARAMETER, at);
                    int close = reply.indexOf(ToolCalls.FUNCTION_CLOSE, at);
                    if (close >= 0 && (open < 0 || close < open)) {
                        pending.add(new CallDelta(streamed - 1, null, "}"));
                        at = close + ToolCalls.FUNCTION_CLOSE.length();
                        phase = Phase.CLOSE;
                        continue;
                    }
                    int keyEnd = open < 0 ? -1 : reply.indexOf(">", open);
                    if (keyEnd < 0) return;
                    String key = reply.substring(open + ToolCalls.PARAMETER.length(), keyEnd).strip();
                    pending.add(new CallDelta(streamed - 1, null, (parameters++ > 0 ? ", " : "") + quoted(key) + ": "));
                    at = valueFrom = keyEnd + 1;
                    value = Value.UNKNOWN;
                    phase = Phase.XML_VALUE;
                }
                case XML_VALUE -> {
                    if (value == Value.UNKNOWN) {
                        int first = valueFrom < reply.length() && reply.charAt(valueFrom) == '\n' ? valueFrom + 1 : valueFrom;
                        if (first >= reply.length()) return;
                        if (mayBeJson(reply.charAt(first))) {
                            value = Value.WHOLE;
                        } else {
                            value = Value.STRING;
                            pending.add(new CallDelta(streamed - 1, null, "\""));
                            at = first;
                        }
                    }
                    int close = reply.indexOf(ToolCalls.PARAMETER_CLOSE, value == Value.WHOLE ? valueFrom : at);
                    if (value == Value.WHOLE) {
                        if (close < 0) return;
                        pending.add(new CallDelta(streamed - 1, null,
                                ToolCalls.xmlValue(reply.substring(valueFrom, close)).toString()));
                    } else {
                        // The newline before the close tag is layout: never send what could be it.
                        int until = close >= 0 ? close - (close > at && reply.charAt(close - 1) == '\n' ? 1 : 0)
                                : reply.length() - Math.max(heldSuffix(reply, at, "\n" + ToolCalls.PARAMETER_CLOSE),
                                        heldSuffix(reply, at, ToolCalls.PARAMETER_CLOSE));
                        String piece = until > at ? escapedText(reply.substring(at, until)) : "";
                        if (close >= 0) piece += "\"";
                        if (!piece.isEmpty()) pending.add(new CallDelta(streamed - 1, null, piece));
                        at = Math.max(at, until);
                        if (close < 0) return;
                    }
                    at = close + ToolCalls.PARAMETER_CLOSE.length();
                    phase = Phase.XML_PARAMETER;
                }
                case CLOSE -> {
                    if (format == ToolCallFormat.LLAMA3) {
                        while (at < reply.length() && Character.isWhitespace(reply.charAt(at))) at++;
                        if (at == reply.length()) return;
                        if (reply.charAt(at) != '}') {
                            phase = Phase.STOPPED; // more keys after the arguments: finish() reads them
                            return;
                        }
                        at++;
                        phase = Phase.NEXT;
                        continue;
                    }
                    int close = reply.indexOf(ToolCalls.CLOSE, at);
                    if (close < 0) return;
                    at = close + ToolCalls.CLOSE.length();
                    phase = Phase.NEXT;
                }
                case NEXT -> {
                    if (format != ToolCallFormat.LLAMA3) {
                        int next = reply.indexOf(ToolCalls.OPEN, at);
                        if (next < 0) return;
                        at = next;
                    }
                    phase = streamed < liveCalls ? Phase.HEADER : Phase.STOPPED;
                }
                case STOPPED -> {
                    return;
                }
            }
        }
    }

    /** Whether a value that starts with {@code c} could read as JSON (and so must be seen whole). */
    private static boolean mayBeJson(char c) {
        return Character.isWhitespace(c) || c == '<' || "{[\"-0123456789tfn".indexOf(c) >= 0;
    }

    private static String quoted(String s) {
        try {
            return JSON.writeValueAsString(s);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code s} as the inside of a JSON string. */
    private static String escapedText(String s) {
        String q = quoted(s);
        return q.substring(1, q.length() - 1);
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
