package dev.bunshin.submitter.api;

import io.vertx.core.http.HttpServerRequest;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The one place errors become HTTP responses. Everything under {@code /v1} answers in OpenAI's error shape
 * {@code {"error": {"message", "type", "param", "code"}}}; Ollama's routes ({@code /api/...}) answer in
 * Ollama's {@code {"error": "message"}}. Unexpected exceptions are logged under a random id and answered 500
 * with that id and nothing of the exception.
 */
public class ApiErrors {

    private static final Logger LOG = Logger.getLogger(ApiErrors.class);
    private static final SecureRandom RANDOM = new SecureRandom();

    @ServerExceptionMapper
    public Response api(ApiException e, HttpServerRequest request) {
        return render(request, e.status(), e.type(), e.param(), e.code(), e.getMessage());
    }

    @ServerExceptionMapper
    public Response web(WebApplicationException e, HttpServerRequest request) {
        int status = e.getResponse().getStatus();
        if (status >= 500) {
            return unexpected(e, request);
        }
        String code = switch (status) {
            case 404 -> "not_found";
            case 405 -> "method_not_allowed";
            case 406 -> "not_acceptable";
            case 415 -> "unsupported_media_type";
            case 413 -> "request_too_large";
            default -> "invalid_request";
        };
        String message = e.getMessage() == null ? Response.Status.fromStatusCode(status) + "" : e.getMessage();
        if (status == 404 && request != null) {
            message = "no route " + request.method() + " " + request.path();
        }
        return render(request, status, "invalid_request_error", null, code, message);
    }

    /**
     * Anything unexpected: the exception (which may quote SQL, paths or data) goes to the log under a random id,
     * and the client gets only that id, to quote when reporting it.
     */
    @ServerExceptionMapper
    public Response unexpected(Throwable e, HttpServerRequest request) {
        if (request != null && request.response().closed()) {
            // The client left (its job was cancelled where that applies): no error of ours, and nobody to answer.
            LOG.debugf("%s %s: the client went away (%s)", request.method(), request.path(), e.toString());
            return Response.status(499).build();
        }
        String id = errorId();
        LOG.errorf(e, "internal error %s on %s %s", id, request == null ? "?" : request.method(),
                request == null ? "?" : request.path());
        if (request != null && request.path() != null && request.path().startsWith("/api/")) {
            return Response.status(500).type(MediaType.APPLICATION_JSON_TYPE)
                    .entity(Map.of("error", "internal error (id " + id + ")")).build();
        }
        Map<String, Object> error = new LinkedHashMap<>();
        error.put("message", "internal error");
        error.put("type", "server_error");
        error.put("param", null);
        error.put("code", "internal_error");
        error.put("id", id);
        return Response.status(500).type(MediaType.APPLICATION_JSON_TYPE).entity(Map.of("error", error)).build();
    }

    /** 12 hex digits: enough to find one line in a log, short enough to read out. */
    static String errorId() {
        byte[] b = new byte[6];
        RANDOM.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    static Response render(HttpServerRequest request, int status, String type, String param, String code,
                           String message) {
        if (request != null && request.path() != null && request.path().startsWith("/api/")) {
            String text = param == null ? message : message + " (field " + param + ")";
            return Response.status(status).type(MediaType.APPLICATION_JSON_TYPE).entity(Map.of("error", text)).build();
        }
        Map<String, Object> error = new LinkedHashMap<>();
        error.put("message", message);
        error.put("type", type);
        error.put("param", param);
        error.put("code", code);
        return Response.status(status).type(MediaType.APPLICATION_JSON_TYPE).entity(Map.of("error", error)).build();
    }
}
