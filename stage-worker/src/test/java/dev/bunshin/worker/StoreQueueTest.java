package dev.bunshin.worker;

import org.junit.jupiter.api.Test;

import java.sql.SQLException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The tail's store thread: in order, bounded, a failure thrown to the engine's thread, a graceful close. */
class StoreQueueTest {

    @Test
    void runsTasksInTheOrderHandedOverBesideTheCaller() throws Exception {
        List<Integer> ran = new CopyOnWriteArrayList<>();
        try (StoreQueue q = new StoreQueue("test-store", 2)) {
            for (int i = 0; i < 50; i++) {
                int n = i;
                q.submit(() -> {
                    if (n % 7 == 0) Thread.sleep(2);
                    ran.add(n);
                });
            }
            q.drain();
        }
        assertEquals(50, ran.size());
        for (int i = 0; i < 50; i++) assertEquals(i, ran.get(i));
    }

    @Test
    void handingOverWaitsWhileDepthTasksWait() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        try (StoreQueue q = new StoreQueue("test-store", 1)) {
            q.submit(release::await);  // running
            q.submit(() -> {});        // waiting: the queue is full
            AtomicBoolean third = new AtomicBoolean();
            Thread t = Thread.ofPlatform().start(() -> {
                try {
                    q.submit(() -> {});
                    third.set(true);
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            t.join(200);
            assertFalse(third.get(), "a third task was taken while one ran and one waited");
            release.countDown();
            t.join(5_000);
            assertTrue(third.get());
            q.drain();
        }
    }

    @Test
    void aFailureIsThrownToTheCallerAndTheTasksAfterItAreDropped() throws Exception {
        SQLException boom = new SQLException("disk full");
        AtomicBoolean after = new AtomicBoolean();
        try (StoreQueue q = new StoreQueue("test-store", 4)) {
            CountDownLatch both = new CountDownLatch(1);
            q.submit(() -> {
                both.await();
                throw boom;
            });
            q.submit(() -> after.set(true));
            both.countDown();
            assertSame(boom, assertThrows(SQLException.class, q::drain));
            assertSame(boom, assertThrows(SQLException.class, () -> q.submit(() -> {})));
        }
        assertFalse(after.get(), "a task after a failed one ran");
    }

    @Test
    void closeGivesTheTasksTheirGraceThenInterruptsTheOneRunning() throws Exception {
        AtomicBoolean finished = new AtomicBoolean();
        StoreQueue q = new StoreQueue("test-store", 2);
        q.submit(() -> {
            Thread.sleep(50);
            finished.set(true);
        });
        q.close(5_000);
        assertTrue(finished.get(), "a short task had its grace");

        AtomicBoolean interrupted = new AtomicBoolean();
        StoreQueue slow = new StoreQueue("test-store", 2);
        slow.submit(() -> {
            try {
                Thread.sleep(60_000);
            } catch (InterruptedException e) {
                interrupted.set(true);
                throw e;
            }
        });
        long t0 = System.nanoTime();
        slow.close(100);
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(5), "close waited past its grace");
        assertTrue(interrupted.get(), "the running task was interrupted");
    }
}
