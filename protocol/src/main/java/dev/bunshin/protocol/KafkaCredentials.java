package dev.bunshin.protocol;

import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.common.config.SaslConfigs;

import java.util.Map;
import java.util.Objects;

/**
 * A SCRAM-SHA-256 user of the broker's authenticated listener: what a stage worker on another machine needs to reach
 * the Kafka that {@code ./bunshin up --bind ...} runs (that listener refuses clients without them). Processes on the
 * broker's own machine use its loopback listener and need none.
 *
 * @param username the SCRAM user ({@link #USER} for the broker {@code up} runs)
 * @param password its password (kept by {@code up} in {@code <data-dir>/kafka-password})
 */
public record KafkaCredentials(String username, String password) {

    /** The user {@code up} creates on its broker. */
    public static final String USER = "bunshin";
    /** The SASL mechanism of that listener. */
    public static final String MECHANISM = "SCRAM-SHA-256";

    public KafkaCredentials {
        Objects.requireNonNull(username, "username == null");
        Objects.requireNonNull(password, "password == null");
        if (username.isBlank() || password.isBlank()) {
            throw new IllegalArgumentException("Kafka username and password must not be blank (user \"" + username + "\")");
        }
        if ((username + password).contains("\"") || (username + password).contains("\\")) {
            throw new IllegalArgumentException("Kafka username and password must not hold \" or \\ (user \"" + username + "\")");
        }
    }

    /** The client settings that log in with these credentials (add them to a producer's, consumer's or admin's). */
    public Map<String, Object> clientSettings() {
        return Map.of(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "SASL_PLAINTEXT",
                SaslConfigs.SASL_MECHANISM, MECHANISM,
                SaslConfigs.SASL_JAAS_CONFIG, jaas());
    }

    /** The JAAS line of the SCRAM login module. */
    public String jaas() {
        return "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"" + username
                + "\" password=\"" + password + "\";";
    }

    /** The client settings of {@code credentials}, or none when null (the loopback listener). */
    public static Map<String, Object> settingsOf(KafkaCredentials credentials) {
        return credentials == null ? Map.of() : credentials.clientSettings();
    }

    @Override
    public String toString() {
        return "KafkaCredentials[" + username + ", password hidden]";
    }
}
