package dev.bunshin.launcher;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

class ClusterIdTest {

    @Test
    void clusterIdNeverStartsWithADashSoTheStorageToolCannotReadItAsAnOption() {
        // One id in 64 would start with '-' if drawn once; 5000 draws make a regression near-certain to show.
        for (int i = 0; i < 5000; i++) {
            String id = LocalKafka.newClusterId();
            assertFalse(id.startsWith("-"), id);
            assertEquals(22, id.length(), id);
        }
    }
}
