package dev.bunshin.worker;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class StopMatcherTest {

    @Test
    void textIsHeldWhileItCouldStartAStopString() {
        StopMatcher m = new StopMatcher(List.of("\nUser:"));
        assertEquals("Hello", m.push("Hello"));
        assertEquals(" there", m.push(" there\n"));   // "\n" could start the stop string
        assertEquals("", m.push("Us"));              // "\nUs" still could
        assertEquals("\nUsual", m.push("ual"));       // no longer: released
        assertFalse(m.stopped());
    }

    @Test
    void cutsBeforeTheStopStringAcrossPieces() {
        StopMatcher m = new StopMatcher(List.of("STOP", "END"));
        assertEquals("abc ", m.push("abc S"));
        assertEquals("", m.push("TO"));
        assertEquals("", m.push("P and more"));
        assertTrue(m.stopped());
        assertEquals("", m.flush());
        assertEquals("", m.push("ignored"));
    }

    @Test
    void earliestStopWins() {
        StopMatcher m = new StopMatcher(List.of("b", "a"));
        assertEquals("x", m.push("xab"));
        assertTrue(m.stopped());
    }

    @Test
    void flushReleasesWhatWasHeld() {
        StopMatcher m = new StopMatcher(List.of("###"));
        assertEquals("a", m.push("a##"));
        assertEquals("##", m.flush());
    }

    @Test
    void noStopsReleasesEverything() {
        StopMatcher m = new StopMatcher(List.of());
        assertEquals("x\n", m.push("x\n"));
        assertEquals("", m.flush());
    }

    @Test
    void memorySizesParse() {
        assertEquals(8L << 30, WorkerSettings.parseBytes("8G"));
        assertEquals(512L << 20, WorkerSettings.parseBytes("512m"));
        assertEquals(1536L << 20, WorkerSettings.parseBytes("1.5GB"));
        assertEquals(1000, WorkerSettings.parseBytes("1000"));
        assertThrows(IllegalArgumentException.class, () -> WorkerSettings.parseBytes("lots"));
    }
}
