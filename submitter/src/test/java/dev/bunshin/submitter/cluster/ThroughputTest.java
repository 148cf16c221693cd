package dev.bunshin.submitter.cluster;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ThroughputTest {

    @Test
    void ratesAreDifferencesOverTimeOldestFirst() {
        Throughput t = new Throughput(10);
        t.record(1000, 100);
        t.record(2000, 150);
        t.record(2500, 175);
        assertEquals(List.of(new Throughput.Rate(2000, 50), new Throughput.Rate(2500, 50)), t.rates());
        assertEquals(175, t.total());
    }

    @Test
    void theRingKeepsTheNewestSamples() {
        Throughput t = new Throughput(3);
        for (int s = 1; s <= 5; s++) t.record(s * 1000L, s * 10L);
        assertEquals(List.of(new Throughput.Rate(4000, 10), new Throughput.Rate(5000, 10)), t.rates());
    }

    @Test
    void recentAveragesOverTheWindowBeforeTheNewestSample() {
        Throughput t = new Throughput(100);
        t.record(0, 0);
        t.record(10_000, 0);      // idle for ten seconds
        t.record(11_000, 30);
        t.record(12_000, 50);
        assertEquals(25.0, t.recent(2_000), 1e-9, "50 tokens in the last 2 s");
        assertEquals(50 / 12.0, t.recent(60_000), 1e-9);
        assertEquals(0, new Throughput(2).recent(1000));
    }

    @Test
    void aCounterThatWentDownReadsAsZero() {
        Throughput t = new Throughput(4);
        t.record(0, 100);
        t.record(1000, 10);
        assertEquals(List.of(new Throughput.Rate(1000, 0)), t.rates());
    }

    @Test
    void oneSampleIsNoRate() {
        assertThrows(IllegalArgumentException.class, () -> new Throughput(1));
    }
}
