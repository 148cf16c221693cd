package dev.bunshin.worker;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The tail's transactions, run one at a time in the order handed over, on a thread of their own: the engine's thread
 * hands a batch's store over and runs the next batch meanwhile. At most {@code depth} wait; handing over one more
 * waits for room (a slow or absent database slows the tail down, it does not pile up batches).
 *
 * <p>A task that fails is the worker's failure: it is thrown to the engine's thread at its next {@link #submit} or
 * {@link #drain}, and the tasks after it are dropped (the worker stops, and its plan ends with it).
 */
final class StoreQueue implements AutoCloseable {

    /** One batch's store. */
    interface Task {
        void run() throws Exception;
    }

    private final BlockingQueue<Task> queue;
    private final Thread thread;
    private final Object lock = new Object();
    private int unfinished; // handed over, not yet run (guarded by lock)
    private volatile Exception failure;
    private volatile boolean closed;

    StoreQueue(String name, int depth) {
        this.queue = new ArrayBlockingQueue<>(depth);
        this.thread = Thread.ofPlatform().daemon().name(name).start(this::loop);
    }

    /** Hands a task over, waiting while {@code depth} wait; throws an earlier task's failure instead. */
    void submit(Task task) throws Exception {
        rethrow();
        synchronized (lock) {
            unfinished++;
        }
        queue.put(task);
    }

    /** Waits until every task handed over has run; throws the failure of one that failed. */
    void drain() throws Exception {
        synchronized (lock) {
            while (unfinished > 0 && failure == null) lock.wait();
        }
        rethrow();
    }

    /** Throws the failure of a task that failed, if any. */
    void rethrow() throws Exception {
        Exception f = failure;
        if (f != null) throw f;
    }

    private void loop() {
        while (!closed) {
            Task task;
            try {
                task = queue.take();
            } catch (InterruptedException e) {
                return; // closed
            }
            try {
                if (failure == null) task.run();
            } catch (Exception e) {
                failure = e;
            } finally {
                synchronized (lock) {
                    unfinished--;
                    lock.notifyAll();
                }
            }
        }
    }

    /**
     * Gives the tasks handed over up to {@code graceMillis} to finish, then interrupts the one running (its
     * transaction rolls back) and drops the rest.
     */
    void close(long graceMillis) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(graceMillis);
        synchronized (lock) {
            long left;
            while (unfinished > 0 && failure == null && (left = deadline - System.nanoTime()) > 0) {
                try {
                    TimeUnit.NANOSECONDS.timedWait(lock, left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        closed = true;
        thread.interrupt();
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        close(0);
    }
}
