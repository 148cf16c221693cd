package dev.bunshin.worker;

import dev.bunshin.engine.tokenizer.Tokenizer;
import dev.bunshin.protocol.ActivationRecord;
import dev.bunshin.protocol.events.EventPublisher;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import javax.sql.DataSource;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@link TailStage} on its own, for tests that drive the tail's sampling and storing directly: logits in, the
 * records it sends out back. The tail's job states, retries and store thread are the real ones.
 */
public final class TailHarness implements AutoCloseable {

    private final TailStage tail;
    private final EventPublisher events;

    public TailHarness(DataSource db, String bootstrapServers, Tokenizer tokenizer, int contextLength) {
        this.events = new EventPublisher(bootstrapServers);
        this.tail = new TailStage(db, new DatabaseRetry("tail-harness", () -> true), events, tokenizer, contextLength,
                new TailMetrics(new SimpleMeterRegistry(), "tail-harness"), null, 0);
    }

    /** One record and the logits F32 {@code [nVocab]} of its last position. */
    public record Input(ActivationRecord record, float[] logits) {
    }

    /**
     * Samples the batch (retrying through database failures as a worker does) and hands its store to the store
     * thread; returns the records sent at once (the next steps' DECODEs, FREEs) and, after the store, those it sent.
     */
    public List<ActivationRecord> onLogits(List<Input> batch, int epoch, List<ActivationRecord> late)
            throws Exception {
        List<TailStage.Logits> logits = new ArrayList<>();
        for (Input in : batch) logits.add(new TailStage.Logits(in.record(), in.logits()));
        List<ActivationRecord> early = new ArrayList<>();
        tail.onLogits(logits, epoch, early::addAll, records -> {
            synchronized (late) {
                late.addAll(records);
            }
        });
        return early;
    }

    /** Waits until every batch handed over is stored; throws a store's failure. */
    public void drain() throws Exception {
        tail.drain();
    }

    @Override
    public void close() {
        tail.close(5_000);
        events.close();
    }
}
