package dev.bunshin.submitter.jobs;

import dev.bunshin.protocol.events.BatchEvent;
import dev.bunshin.protocol.events.Event;
import dev.bunshin.protocol.events.JobEvent;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The live job and batch events this submitter receives ({@link EventsIn}, from Kafka), handed to the streams that
 * follow those jobs ({@link TokenFeed}) and to anyone else who listens (the dashboard). A stream reads PostgreSQL
 * first and then takes tokens from the events; anything it cannot be sure of (a gap in positions, a lost
 * connection, too many events queued) makes it read the database again, so an event lost costs latency, never a
 * token.
 */
@ApplicationScoped
public class JobEvents {

    /** Events a watch queues before it gives up on them and asks its stream to read the database instead. */
    static final int QUEUE_LIMIT = 4096;

    /** What came for a job while its stream was busy or waiting. */
    public record News(List<JobEvent> events, boolean resync) {}

    /** One stream's queue of its job's events, from the moment it starts watching (before its first read). */
    public static final class Watch implements AutoCloseable {
        private final JobEvents owner;
        private final long jobId;
        private final ArrayDeque<JobEvent> queue = new ArrayDeque<>();
        private boolean resync;

        private Watch(JobEvents owner, long jobId) {
            this.owner = owner;
            this.jobId = jobId;
        }

        synchronized void offer(JobEvent e) {
            if (queue.size() >= QUEUE_LIMIT) {
                queue.clear();
                resync = true;
            } else {
                queue.add(e);
            }
            notifyAll();
        }

        synchronized void resync() {
            resync = true;
            notifyAll();
        }

        /** Waits up to {@code maxMillis} for events or a resync and takes them; empty news if the wait timed out. */
        public synchronized News await(long maxMillis) throws InterruptedException {
            long deadline = System.nanoTime() + maxMillis * 1_000_000;
            long left;
            while (queue.isEmpty() && !resync && (left = deadline - System.nanoTime()) > 0) {
                wait(Math.max(1, left / 1_000_000));
            }
            News news = new News(List.copyOf(queue), resync);
            queue.clear();
            resync = false;
            return news;
        }

        @Override
        public void close() {
            owner.watches.computeIfPresent(jobId, (id, list) -> {
                list.remove(this);
                return list.isEmpty() ? null : list;
            });
        }
    }

    private final ConcurrentHashMap<Long, List<Watch>> watches = new ConcurrentHashMap<>();
    private final List<Consumer<Event>> listeners = new CopyOnWriteArrayList<>();
    private volatile boolean connected;

    /** Starts watching a job for one stream; close the watch when the stream ends. */
    public Watch watch(long jobId) {
        Watch w = new Watch(this, jobId);
        watches.compute(jobId, (id, list) -> {
            List<Watch> l = list != null ? list : new CopyOnWriteArrayList<>();
            l.add(w);
            return l;
        });
        return w;
    }

    /** Whether events are arriving now (else a waiting stream should poll the database). */
    public boolean listening() {
        return connected;
    }

    /** Also hands every event to {@code listener} (on the consumer's thread: keep it short). */
    public void addListener(Consumer<Event> listener) {
        listeners.add(listener);
    }

    public void removeListener(Consumer<Event> listener) {
        listeners.remove(listener);
    }

    /** An event from the topic. */
    void deliver(Event event) {
        switch (event) {
            case JobEvent j -> {
                List<Watch> ws = watches.get(j.job());
                if (ws != null) ws.forEach(w -> w.offer(j));
            }
            // A batch cancel ends its jobs in one statement, announced once: every stream checks its job.
            case BatchEvent b -> {
                if (b.status().startsWith("cancel")) resyncAll();
            }
        }
        for (Consumer<Event> l : listeners) l.accept(event);
    }

    /**
     * The consumer has (re)joined or left the topic. Events published while it was away are lost to it, so every
     * stream reads the database once now.
     */
    void connected(boolean now) {
        connected = now;
        resyncAll();
    }

    private void resyncAll() {
        watches.values().forEach(ws -> ws.forEach(Watch::resync));
    }
}
