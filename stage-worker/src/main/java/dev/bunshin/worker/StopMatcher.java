package dev.bunshin.worker;

import java.util.List;

/**
 * Holds back generated text while it could still be the start of a stop string, and cuts the text before the
 * first stop string found. Stand-in until the tokenizer work's StopStrings is on main.
 */
final class StopMatcher {

    private final List<String> stops;
    private final StringBuilder pending = new StringBuilder();
    private boolean stopped;

    StopMatcher(List<String> stops) {
        this.stops = stops.stream().filter(s -> !s.isEmpty()).toList();
    }

    /** Adds decoded text; returns the text that can no longer be part of a stop string. */
    String push(String text) {
        if (stopped) return "";
        pending.append(text);
        int cut = -1;
        for (String s : stops) {
            int at = pending.indexOf(s);
            if (at >= 0 && (cut < 0 || at < cut)) cut = at;
        }
        if (cut >= 0) {
            stopped = true;
            String out = pending.substring(0, cut);
            pending.setLength(0);
            return out;
        }
        int hold = 0;
        for (String s : stops) hold = Math.max(hold, overlap(pending, s));
        String out = pending.substring(0, pending.length() - hold);
        pending.delete(0, pending.length() - hold);
        return out;
    }

    /** Whether a stop string was seen: generation ends. */
    boolean stopped() {
        return stopped;
    }

    /** At the end of generation: everything still held back. */
    String flush() {
        String out = stopped ? "" : pending.toString();
        pending.setLength(0);
        return out;
    }

    /** Length of the longest suffix of {@code text} that is a proper prefix of {@code stop}. */
    private static int overlap(CharSequence text, String stop) {
        for (int n = Math.min(text.length(), stop.length() - 1); n > 0; n--) {
            boolean match = true;
            for (int i = 0; i < n && match; i++) match = text.charAt(text.length() - n + i) == stop.charAt(i);
            if (match) return n;
        }
        return 0;
    }
}
