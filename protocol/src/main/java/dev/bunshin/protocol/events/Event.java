package dev.bunshin.protocol.events;

/**
 * Something that happened to a job or a batch, published to Kafka ({@link EventPublisher}, topic
 * {@link EventPublisher#TOPIC}) after it was committed to PostgreSQL. PostgreSQL stays the record: an event is a
 * fast copy for whoever follows live (streams, the dashboard), and a follower that misses one reads the database.
 */
public sealed interface Event permits JobEvent, BatchEvent {

    /** The record key: events of one job (or one batch) stay in order within their partition. */
    String key();
}
