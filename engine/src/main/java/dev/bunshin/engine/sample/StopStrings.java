package dev.bunshin.engine.sample;

import java.util.List;
import java.util.Objects;

/**
 * Watches generated text for stop strings, piece by piece. {@link #push} returns the text that is safe to release
 * now: a suffix that could still become a stop string is held back until the next piece decides it. When a stop
 * string completes, the text before it is released and the stop string itself never is; after that nothing more
 * is released. Not thread-safe: one instance per generation.
 */
public final class StopStrings {

    /**
     * What a {@link #push} released.
     *
     * @param text    text safe to emit now (possibly empty)
     * @param stopped whether a stop string has been hit (now or earlier)
     * @param stop    the stop string that was hit, or null
     */
    public record Result(String text, boolean stopped, String stop) {}

    private final List<String> stops;
    private final StringBuilder held = new StringBuilder();
    private String hit;

    /** @param stops stop strings; empty strings are ignored */
    public StopStrings(List<String> stops) {
        this.stops = Objects.requireNonNull(stops, "stops == null").stream().filter(s -> !s.isEmpty()).toList();
    }

    /** Adds generated text; returns what can be released. */
    public Result push(String piece) {
        if (hit != null) {
            return new Result("", true, hit);
        }
        held.append(piece);
        // the stop string that completes first wins (as if the text came one character at a time, so the result
        // does not depend on how the text was cut into pieces); on a tie, the one that starts first
        int at = -1;
        int end = Integer.MAX_VALUE;
        String found = null;
        for (String s : stops) {
            int i = held.indexOf(s);
            if (i >= 0 && (i + s.length() < end || (i + s.length() == end && i < at))) {
                at = i;
                end = i + s.length();
                found = s;
            }
        }
        if (found != null) {
            hit = found;
            String before = held.substring(0, at);
            held.setLength(0);
            return new Result(before, true, hit);
        }
        int keep = longestSuffixThatStartsAStop();
        String release = held.substring(0, held.length() - keep);
        held.delete(0, held.length() - keep);
        return new Result(release, false, null);
    }

    /** At the end of generation: whatever was held back (it did not become a stop string); "" after a stop. */
    public String flush() {
        if (hit != null) {
            return "";
        }
        String rest = held.toString();
        held.setLength(0);
        return rest;
    }

    /** Whether a stop string has been hit. */
    public boolean stopped() {
        return hit != null;
    }

    /** The stop string that was hit, or null. */
    public String stop() {
        return hit;
    }

    /** Length of the longest suffix of the held text that is a proper prefix of some stop string. */
    private int longestSuffixThatStartsAStop() {
        String h = held.toString();
        int best = 0;
        for (String s : stops) {
            int max = Math.min(s.length() - 1, h.length());
            for (int len = max; len > best; len--) {
                if (h.regionMatches(h.length() - len, s, 0, len)) {
                    best = len;
                    break;
                }
            }
        }
        return best;
    }
}
