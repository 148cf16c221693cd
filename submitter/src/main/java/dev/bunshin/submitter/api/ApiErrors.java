package dev.bunshin.submitter.api;

import io.vertx.core.http.HttpServerRequest;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The one place errors become HTTP responses. Everything under {@code /v1} answers in OpenAI's error shape
 * {@code {"error": {"message", "type", "param", "code"}}}; Ollama's routes ({@code /api/...}) answer in
 * Ollama's {@code {"error": "message"}}. Unexpected exceptions are logged and answered 500 without internals.
 */
public class ApiErrors {

    private static final Logger LOG = Logger.getLogger(ApiErrors.class);

    @ServerExceptionMapper
    public Response api(ApiException e, HttpServerRequest request) {
        return render(request, e.status(), e.type(), e.param(), e.code(), e.getMessage());
    }

    @ServerExceptionMapper
    public Response web(WebApplicationException e, HttpServerRequest request) {
        int status = e.getResponse().getStatus();
        String code = switch (status) {
            case 404 -> "not_found";
            case 405 -> "method_not_allowed";
            case 406 -> "not_acceptable";
            case 415 -> "unsupported_media_type";
            case 413 -> "request_too_large";
            default -> status >= 500 ? "server_error" : "invalid_request";
        };
        String message = e.getMessage() == null ? Response.Status.fromStatusCode(status) + "" : e.getMessage();
        if (status == 404 && request != null) {
            message = "no route " + request.method() + " " + request.path();
        }
        return render(request, status, status >= 500 ? "server_error" : "invalid_request_error", null, code, message);
    }

    @ServerExceptionMapper
    public Response unexpected(Throwable e, HttpServerRequest request) {
        LOG.errorf(e, "unexpected error on %s %s", request == null ? "?" : request.method(),
                request == null ? "?" : request.path());
        return render(request, 500, "server_error", null, "internal_error",
                "internal error: " + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()));
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
