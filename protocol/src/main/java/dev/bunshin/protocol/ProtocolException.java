package dev.bunshin.protocol;

/** A record that cannot be decoded: wrong magic, unsupported version, corrupt length or checksum. */
public final class ProtocolException extends RuntimeException {
    public ProtocolException(String message) {
        super(message);
    }
}
