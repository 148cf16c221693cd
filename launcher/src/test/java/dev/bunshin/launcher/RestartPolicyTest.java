package dev.bunshin.launcher;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class RestartPolicyTest {

    @Test
    void theDelayDoublesWithEachRecentRestartUpToTheCap() {
        RestartPolicy policy = RestartPolicy.DEFAULT;
        assertEquals(Duration.ofSeconds(1), policy.delay(0));
        assertEquals(Duration.ofSeconds(2), policy.delay(1));
        assertEquals(Duration.ofSeconds(16), policy.delay(4));
        assertEquals(Duration.ofSeconds(30), policy.delay(5));
        assertEquals(Duration.ofSeconds(30), policy.delay(1000));
    }

    @Test
    void theDefaultAllowsFiveRestartsPerTenMinutes() {
        assertEquals(5, RestartPolicy.DEFAULT.maxRestarts());
        assertEquals("5 restarts per 10 min", RestartPolicy.DEFAULT.describe());
    }

    @Test
    void aNegativeLimitIsRefusedWithItsValue() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RestartPolicy.withLimit(-1));
        assertEquals("maxRestarts must be >= 0: -1", e.getMessage());
    }
}
