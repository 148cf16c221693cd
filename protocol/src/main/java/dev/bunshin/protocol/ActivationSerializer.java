package dev.bunshin.protocol;

import org.apache.kafka.common.serialization.Serializer;

/** Kafka value serializer for {@link ActivationRecord} (the key is the job id, a {@code LongSerializer}). */
public final class ActivationSerializer implements Serializer<ActivationRecord> {
    @Override
    public byte[] serialize(String topic, ActivationRecord data) {
        return data == null ? null : ActivationCodec.encode(data);
    }
}
