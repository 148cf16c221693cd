package dev.bunshin.submitter.api;

import io.vertx.core.http.HttpServerRequest;
import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.core.Response;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

import java.util.Locale;

/**
 * Refuses a URL whose path or query holds an encoded NUL ({@code %00}): ids and filters are compared in
 * PostgreSQL, whose text cannot hold one, so such a request would otherwise end in a database error. Runs after
 * the API key check (a client without a key learns nothing about URLs).
 */
public class UrlChecks {

    @ServerRequestFilter(preMatching = true, priority = Priorities.USER + 100)
    public Response check(HttpServerRequest request) {
        String uri = request.uri();
        int at = uri.toLowerCase(Locale.ROOT).indexOf("%00");
        if (at < 0) {
            return null;
        }
        int query = uri.indexOf('?');
        String param = "path";
        if (query >= 0 && at > query) {
            int name = Math.max(query, uri.lastIndexOf('&', at)) + 1;
            int eq = uri.indexOf('=', name);
            param = eq >= 0 && eq < at ? uri.substring(name, eq) : "query";
        }
        return ApiErrors.render(request, 400, "invalid_request_error", param, "invalid_characters",
                "the URL's " + (param.equals("path") ? "path" : "'" + param + "'")
                        + " holds a NUL character (%00), which cannot be stored or looked up");
    }
}
