package dev.bunshin.submitter.jobs;

import dev.bunshin.protocol.ProtocolException;
import dev.bunshin.protocol.events.EventCodec;
import io.smallrye.common.annotation.Identifier;
import io.smallrye.reactive.messaging.kafka.KafkaConsumerRebalanceListener;
import jakarta.enterprise.context.ApplicationScoped;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.TopicPartition;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

import java.util.Collection;

/**
 * The Kafka edge of {@link JobEvents}: SmallRye Reactive Messaging's consumer of the events topic (channel
 * {@code events}, configured in application.properties). Every submitter has a consumer group of its own, so each
 * one sees every event; it starts at the end of the topic, since whatever came before is in PostgreSQL.
 */
@ApplicationScoped
public class EventsIn {

    private static final Logger LOG = Logger.getLogger(EventsIn.class);

    private final JobEvents events;

    EventsIn(JobEvents events) {
        this.events = events;
    }

    @Incoming("events")
    public void receive(byte[] payload) {
        try {
            for (var e : EventCodec.decode(payload)) events.deliver(e);
        } catch (ProtocolException e) {
            LOG.warnf("ignoring a bad event: %s", e.getMessage());
        }
    }

    /** Tells {@link JobEvents} when the consumer holds the topic's partitions (events arrive) and when not. */
    @ApplicationScoped
    @Identifier("bunshin-events")
    public static class Assignment implements KafkaConsumerRebalanceListener {
        private final JobEvents events;

        Assignment(JobEvents events) {
            this.events = events;
        }

        @Override
        public void onPartitionsAssigned(Consumer<?, ?> consumer, Collection<TopicPartition> partitions) {
            events.connected(!partitions.isEmpty());
        }

        @Override
        public void onPartitionsRevoked(Consumer<?, ?> consumer, Collection<TopicPartition> partitions) {
            events.connected(false);
        }

        @Override
        public void onPartitionsLost(Consumer<?, ?> consumer, Collection<TopicPartition> partitions) {
            events.connected(false);
        }
    }
}
