package dev.bunshin.protocol;

import org.apache.kafka.common.serialization.Deserializer;

/**
 * Kafka value deserializer for {@link ActivationRecord}. Throws {@link ProtocolException} on a bad record; stage
 * workers read raw bytes and call {@link ActivationCodec#decode} themselves so one bad record fails one job
 * instead of blocking the partition.
 */
public final class ActivationDeserializer implements Deserializer<ActivationRecord> {
    @Override
    public ActivationRecord deserialize(String topic, byte[] data) {
        return data == null ? null : ActivationCodec.decode(data);
    }
}
