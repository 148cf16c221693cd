package dev.bunshin.engine.tensor;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * A small fixed pool: the calling thread plus {@code threads - 1} workers run the tasks {@code 0..n-1} of one
 * {@link #forEach} call, claiming them from a shared counter (so a thread slowed by a busy machine takes fewer).
 * Workers spin briefly between calls, since a forward pass issues many small ones back to back, then park.
 * With one thread everything runs inline: no handoff cost for tiny models.
 *
 * <p>Not reentrant: one {@link #forEach} at a time (the stage runner serialises its calls).
 */
public final class Parallel implements AutoCloseable {
    private static final int SPIN = 2_000;
    /** Multiply-adds below which a matmul runs on the calling thread: a handoff costs more than it saves. */
    private static final long INLINE_WORK = 1 << 16;

    private final int threads;
    private final Thread[] workers;
    private volatile boolean closed;
    private volatile long generation;
    private volatile IntConsumer task;
    private volatile int nTasks;
    private final AtomicInteger next = new AtomicInteger();
    private final AtomicInteger running = new AtomicInteger();
    private volatile Thread caller;
    private volatile Throwable failure;

    public Parallel(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        this.threads = threads;
        this.workers = new Thread[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = Thread.ofPlatform().daemon().name("bunshin-engine-" + (i + 1)).unstarted(this::workerLoop);
            workers[i].start();
        }
    }

    public int threads() {
        return threads;
    }

    /** Runs {@code task(i)} for every i in [0, n) across the pool; returns when all are done. */
    public void forEach(int n, IntConsumer task) {
        forEach(n, Long.MAX_VALUE, task);
    }

    /** As {@link #forEach(int, IntConsumer)}; runs inline when {@code work} (multiply-adds, roughly) is small. */
    public void forEach(int n, long work, IntConsumer task) {
        if (n <= 0) return;
        if (threads == 1 || n == 1 || work < INLINE_WORK) {
            for (int i = 0; i < n; i++) task.accept(i);
            return;
        }
        this.task = task;
        this.nTasks = n;
        this.failure = null;
        this.caller = Thread.currentThread();
        next.set(0);
        running.set(workers.length);
        generation = generation + 1; // publishes the fields above to the workers
        for (Thread w : workers) LockSupport.unpark(w);
        runTasks(task, n);
        int spins = 0;
        while (running.get() != 0) {
            if (++spins < SPIN) Thread.onSpinWait();
            else LockSupport.parkNanos(this, 50_000);
        }
        this.task = null;
        Throwable f = failure;
        if (f != null) {
            if (f instanceof RuntimeException re) throw re;
            if (f instanceof Error e) throw e;
            throw new RuntimeException(f);
        }
    }

    /** y = W·x for all rows of W, split in row chunks across the pool. x F32 [n, cols], y F32 [n, rows]. */
    public void matmul(WeightMatrix w, float[] x, float[] y, int n) {
        int rows = w.rows();
        int chunks = chunks(rows);
        if (chunks == 1 || (long) rows * w.cols() * n < INLINE_WORK) {
            w.matmul(x, y, n, 0, rows);
            return;
        }
        forEach(chunks, c -> w.matmul(x, y, n, (int) ((long) rows * c / chunks), (int) ((long) rows * (c + 1) / chunks)));
    }

    /** Several products of the same input in one parallel region: ys[i] = ws[i]·x. */
    public void matmul(WeightMatrix[] ws, float[] x, float[][] ys, int n) {
        int[] first = new int[ws.length + 1];
        for (int i = 0; i < ws.length; i++) first[i + 1] = first[i] + chunks(ws[i].rows());
        long work = 0;
        for (WeightMatrix w : ws) work += (long) w.rows() * w.cols() * n;
        if (threads == 1 || work < INLINE_WORK) {
            for (int i = 0; i < ws.length; i++) ws[i].matmul(x, ys[i], n, 0, ws[i].rows());
            return;
        }
        forEach(first[ws.length], c -> {
            int i = 0;
            while (c >= first[i + 1]) i++;
            int k = c - first[i], chunks = first[i + 1] - first[i], rows = ws[i].rows();
            ws[i].matmul(x, ys[i], n, (int) ((long) rows * k / chunks), (int) ((long) rows * (k + 1) / chunks));
        });
    }

    private int chunks(int rows) {
        // A few chunks per thread balance a busy machine; at least 16 rows each keeps per-chunk overhead small.
        return Math.max(1, Math.min(threads * 4, rows / 16));
    }

    private void runTasks(IntConsumer t, int n) {
        int i;
        while ((i = next.getAndIncrement()) < n) {
            try {
                t.accept(i);
            } catch (Throwable e) {
                failure = e;
            }
        }
    }

    private void workerLoop() {
        long seen = 0;
        while (true) {
            int spins = 0;
            while (generation == seen && !closed) {
                if (++spins < SPIN) Thread.onSpinWait();
                else LockSupport.park(this);
            }
            if (closed) return;
            seen = generation;
            IntConsumer t = task;
            int n = nTasks;
            if (t != null) runTasks(t, n);
            if (running.decrementAndGet() == 0) LockSupport.unpark(caller);
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Thread w : workers) LockSupport.unpark(w);
    }
}
