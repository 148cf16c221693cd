package dev.bunshin.submitter.api;

import dev.bunshin.submitter.jobs.Client;
import io.vertx.core.http.HttpServerResponse;

import java.io.IOException;

/** The HTTP edge of {@link Client}: the request's connection, as Vert.x knows it. */
public final class RequestClient {

    private RequestClient() {}

    /** Gone once the response's connection is closed (the client disconnected, or the server closed it). */
    public static Client of(HttpServerResponse response) {
        return () -> {
            if (response.closed()) throw new IOException("the client went away (connection closed)");
        };
    }
}
