package dev.bunshin.submitter.cluster;

import dev.bunshin.protocol.events.BatchEvent;
import dev.bunshin.protocol.events.Event;
import dev.bunshin.protocol.events.JobEvent;
import dev.bunshin.submitter.jobs.JobEvents;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

/**
 * The changes a cluster stream shows without waiting for its interval, from the live events ({@link JobEvents}): a
 * job that starts generating or ends, a failure or cancel, a batch's progress. A stream sends its next snapshot when
 * one comes (no sooner than {@link #MIN_GAP_MILLIS} after the last), so the dashboard moves with the cluster.
 */
@ApplicationScoped
public class ClusterChanges {

    /** The least time between two snapshots of one stream: a burst of ends costs one read, not one each. */
    static final long MIN_GAP_MILLIS = 250;

    private final JobEvents events;
    private long version;

    ClusterChanges(JobEvents events) {
        this.events = events;
    }

    void start(@Observes StartupEvent event) {
        events.addListener(this::onEvent);
    }

    private void onEvent(Event e) {
        boolean shown = switch (e) {
            case JobEvent j -> j.ends() || j.tokens().stream().anyMatch(t -> t.position() == 0);
            case BatchEvent b -> true;
        };
        if (shown) bump();
    }

    synchronized void bump() {
        version++;
        notifyAll();
    }

    public synchronized long version() {
        return version;
    }

    /** Waits until a change after {@code seen}, or {@code maxMillis}. */
    public synchronized void await(long seen, long maxMillis) throws InterruptedException {
        long deadline = System.nanoTime() + maxMillis * 1_000_000;
        long left;
        while (version == seen && (left = deadline - System.nanoTime()) > 0) {
            wait(Math.max(1, left / 1_000_000));
        }
    }
}
