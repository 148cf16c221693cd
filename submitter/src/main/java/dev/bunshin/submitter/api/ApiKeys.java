package dev.bunshin.submitter.api;

import io.vertx.core.http.HttpServerRequest;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * API keys: when {@code bunshin.api.key} (env {@code BUNSHIN_API_KEY}; several keys separated by commas) is set,
 * every API request must carry {@code Authorization: Bearer <key>}, as OpenAI's and Ollama's clients send it.
 * Without a key configured the API is open (fine on 127.0.0.1; say so loudly otherwise). Health checks
 * ({@code /q/health}) are not API routes and stay open for load balancers and the launcher.
 */
public class ApiKeys {
    private static final Logger LOG = Logger.getLogger(ApiKeys.class);

    private final List<byte[]> keys;

    ApiKeys(@ConfigProperty(name = "bunshin.api.key") Optional<String> configured) {
        this.keys = configured.stream()
                .flatMap(s -> Arrays.stream(s.split(",")))
                .map(String::strip)
                .filter(s -> !s.isEmpty())
                .map(s -> s.getBytes(StandardCharsets.UTF_8))
                .toList();
        if (keys.isEmpty()) {
            LOG.info("bunshin.api.key is not set: the API accepts requests without a key");
        }
    }

    @ServerRequestFilter(preMatching = true)
    public Response check(HttpServerRequest request) {
        if (keys.isEmpty()) {
            return null;
        }
        String header = request.getHeader(HttpHeaders.AUTHORIZATION);
        String problem;
        if (header == null || header.isBlank()) {
            problem = "missing API key: send the header 'Authorization: Bearer <key>'";
        } else if (!header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            problem = "the Authorization header must be 'Bearer <key>'";
        } else if (!known(header.substring(7).strip())) {
            problem = "invalid API key";
        } else {
            return null;
        }
        Response r = ApiErrors.render(request, 401, "invalid_request_error", "authorization", "invalid_api_key", problem);
        return Response.fromResponse(r).header(HttpHeaders.WWW_AUTHENTICATE, "Bearer realm=\"bunshin\"").build();
    }

    /** Compares against every key in constant time per key, so timing does not reveal a key's prefix. */
    private boolean known(String candidate) {
        byte[] c = candidate.getBytes(StandardCharsets.UTF_8);
        boolean found = false;
        for (byte[] k : keys) {
            found |= MessageDigest.isEqual(k, c);
        }
        return found;
    }
}
