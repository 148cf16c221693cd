package dev.bunshin.submitter.model;

/**
 * A streamed reply split into text to send at once and tool calls parsed at its end. Text that could begin a call
 * is held back, so a client never sees the raw markup of a call as content: in Hermes format the part of a piece
 * that could be the start of {@code <tool_call>}, and everything from a complete marker on; in Llama 3 format a
 * reply that starts with {@code {} or the python tag (a reply that starts with other text is text throughout).
 */
public final class ToolCallStream {

    private final ToolCallFormat format;
    private final StringBuilder reply = new StringBuilder();
    private int sent;          // chars of reply already sent as text
    private boolean held;      // a call has begun: the rest is held to the end
    private boolean plain;     // Llama 3: the reply is text, not a call

    public ToolCallStream(ToolCallFormat format) {
        this.format = format;
    }

    /** Adds a piece of the reply; returns the text that may be sent now (possibly empty). */
    public String add(String piece) {
        reply.append(piece);
        if (held) {
            return "";
        }
        int until = switch (format) {
            case HERMES, GENERIC -> hermes();
            case LLAMA3 -> llama3();
        };
        String out = reply.substring(sent, until);
        sent = until;
        return out;
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
