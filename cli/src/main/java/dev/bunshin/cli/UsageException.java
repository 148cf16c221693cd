package dev.bunshin.cli;

/** A command line the user got wrong; the message names the option or argument. Exit status 2. */
final class UsageException extends RuntimeException {
    UsageException(String message) {
        super(message);
    }
}
