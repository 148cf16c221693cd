package dev.bunshin.launcher;

import java.time.Duration;
import java.util.Objects;

/**
 * How a {@link Supervisor} restarts a child that died: after a delay that doubles with each restart of that child
 * within the window ({@code firstDelay}, 2×, 4×, … up to {@code maxDelay}), and at most {@code maxRestarts} times
 * within {@code window}; one more death within the window means the child keeps dying, and the supervisor gives up.
 *
 * @param maxRestarts restarts allowed per child within {@code window}; 0 never restarts (the first death gives up)
 * @param window how far back restarts count, for the limit and for the delay's doubling
 * @param firstDelay the delay before the first restart within the window
 * @param maxDelay the longest delay
 */
record RestartPolicy(int maxRestarts, Duration window, Duration firstDelay, Duration maxDelay) {

    /** 5 restarts per child within 10 minutes, after 1 s, 2 s, 4 s, 8 s, 16 s. */
    static final RestartPolicy DEFAULT = withLimit(5);

    RestartPolicy {
        Objects.requireNonNull(window, "window == null");
        Objects.requireNonNull(firstDelay, "firstDelay == null");
        Objects.requireNonNull(maxDelay, "maxDelay == null");
        if (maxRestarts < 0) {
            throw new IllegalArgumentException("maxRestarts must be >= 0: " + maxRestarts);
        }
        if (window.isNegative() || window.isZero() || firstDelay.isNegative() || maxDelay.compareTo(firstDelay) < 0) {
            throw new IllegalArgumentException("bad restart timing: window " + window + ", delays " + firstDelay
                    + " to " + maxDelay);
        }
    }

    /** The default timing (10-minute window, 1 s doubling to 30 s) with {@code maxRestarts} per window. */
    static RestartPolicy withLimit(int maxRestarts) {
        return new RestartPolicy(maxRestarts, Duration.ofMinutes(10), Duration.ofSeconds(1), Duration.ofSeconds(30));
    }

    /** The delay before the next restart of a child that was already restarted {@code recentRestarts} times. */
    Duration delay(int recentRestarts) {
        if (recentRestarts < 0) {
            throw new IllegalArgumentException("recentRestarts < 0: " + recentRestarts);
        }
        Duration delay = firstDelay;
        for (int i = 0; i < recentRestarts && delay.compareTo(maxDelay) < 0; i++) {
            delay = delay.multipliedBy(2);
        }
        return delay.compareTo(maxDelay) > 0 ? maxDelay : delay;
    }

    /** How the limit reads in messages: "5 restarts per 10 min". */
    String describe() {
        return maxRestarts + " restart" + (maxRestarts == 1 ? "" : "s") + " per " + minutes(window);
    }

    private static String minutes(Duration d) {
        return d.toSeconds() % 60 == 0 ? d.toMinutes() + " min" : d.toSeconds() + " s";
    }
}
