package dev.bunshin.submitter.jobs;

import dev.bunshin.protocol.events.Event;
import dev.bunshin.protocol.events.EventCodec;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;
import org.eclipse.microprofile.reactive.messaging.Message;
import org.eclipse.microprofile.reactive.messaging.OnOverflow;
import org.jboss.logging.Logger;

import java.util.concurrent.CompletableFuture;

/**
 * The status changes this submitter makes (cancels, batch progress), published to the events topic through
 * SmallRye Reactive Messaging (channel {@code events-out}) after they commit, keyed like the workers' events. Not
 * waited for: a lost event costs a follower a database read.
 */
@ApplicationScoped
public class EventsOut {

    private static final Logger LOG = Logger.getLogger(EventsOut.class);

    private final Emitter<byte[]> emitter;

    EventsOut(@Channel("events-out") @OnOverflow(value = OnOverflow.Strategy.DROP) Emitter<byte[]> emitter) {
        this.emitter = emitter;
    }

    public void publish(Event event) {
        Message<byte[]> m = Message.of(EventCodec.encode(event))
                .addMetadata(OutgoingKafkaRecordMetadata.<String>builder().withKey(event.key()).build())
                .withNack(error -> {
                    LOG.debugf("event %s not published: %s", event.key(), error);
                    return CompletableFuture.completedFuture(null);
                });
        try {
            emitter.send(m);
        } catch (RuntimeException e) { // no downstream demand (broker away for long): drop, followers read the db
            LOG.debugf("event %s dropped: %s", event.key(), e);
        }
    }
}
