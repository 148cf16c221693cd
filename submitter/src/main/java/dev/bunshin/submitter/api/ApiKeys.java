package dev.bunshin.submitter.api;

import io.vertx.core.http.HttpServerRequest;
import jakarta.inject.Singleton;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * API keys: when {@code bunshin.api.key} (env {@code BUNSHIN_API_KEY}; several keys separated by commas) is set,
 * every API request must carry {@code Authorization: Bearer <key>}, as OpenAI's and Ollama's clients send it.
 * Each key is a tenant: it sees and acts on only the jobs, batches and files it created. An admin key
 * ({@code bunshin.api.admin-keys}, env {@code BUNSHIN_API_ADMIN_KEYS}) is accepted too and sees everyone's.
 * Without any key configured the API is open and everything is visible (fine on 127.0.0.1; say so loudly
 * otherwise). Health checks ({@code /q/health}) are not API routes and stay open for load balancers and the
 * launcher.
 */
@Singleton
public class ApiKeys {
    private static final Logger LOG = Logger.getLogger(ApiKeys.class);

    private final List<byte[]> keys;
    private final List<byte[]> adminKeys;

    ApiKeys(@ConfigProperty(name = "bunshin.api.key") Optional<String> configured,
            @ConfigProperty(name = "bunshin.api.admin-keys") Optional<String> admins) {
        this.adminKeys = split(admins);
        this.keys = Stream.concat(split(configured).stream(), adminKeys.stream()).toList();
        if (keys.isEmpty()) {
            LOG.info("bunshin.api.key is not set: the API accepts requests without a key");
        }
    }

    private static List<byte[]> split(Optional<String> configured) {
        return configured.stream()
                .flatMap(s -> Arrays.stream(s.split(",")))
                .map(String::strip)
                .filter(s -> !s.isEmpty())
                .map(s -> s.getBytes(StandardCharsets.UTF_8))
                .toList();
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
        } else if (!known(keys, bearer(header))) {
            problem = "invalid API key";
        } else {
            return null;
        }
        Response r = ApiErrors.render(request, 401, "invalid_request_error", "authorization", "invalid_api_key", problem);
        return Response.fromResponse(r).header(HttpHeaders.WWW_AUTHENTICATE, "Bearer realm=\"bunshin\"").build();
    }

    /** The tenant of a request {@link #check} let through, from its Authorization header. */
    Tenant tenantOf(String authorization) {
        if (keys.isEmpty()) {
            return Tenant.OPEN;
        }
        byte[] key = bearer(authorization);
        return new Tenant(owner(key), known(adminKeys, key));
    }

    /** What rows record of a key: its SHA-256 in hex, so the database never holds a key. */
    static String owner(byte[] key) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(key));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }

    private static byte[] bearer(String header) {
        return header == null || header.length() < 7 ? new byte[0]
                : header.substring(7).strip().getBytes(StandardCharsets.UTF_8);
    }

    /** Compares against every key in constant time per key, so timing does not reveal a key's prefix. */
    private static boolean known(List<byte[]> among, byte[] candidate) {
        boolean found = false;
        for (byte[] k : among) {
            found |= MessageDigest.isEqual(k, candidate);
        }
        return found;
    }
}
