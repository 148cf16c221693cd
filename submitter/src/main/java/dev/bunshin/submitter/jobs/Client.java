package dev.bunshin.submitter.jobs;

import java.io.IOException;

/**
 * The client that waits for a job's answer on an open request (an OpenAI or Ollama completion, streamed or not).
 * A job created by that request is of use to nobody once the client has gone: {@link Completions} cancels it.
 */
@FunctionalInterface
public interface Client {

    /** @throws IOException if the client has gone away (its connection closed) */
    void check() throws IOException;
}
