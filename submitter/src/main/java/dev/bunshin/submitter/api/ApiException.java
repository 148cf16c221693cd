package dev.bunshin.submitter.api;

/**
 * A request the API refuses, with everything the client needs to fix it: HTTP status, OpenAI error
 * {@code type}, the offending {@code param} (a field path such as {@code max_tokens} or {@code body.prompt}),
 * and a stable machine-readable {@code code}. Rendered by {@link ApiErrors}.
 */
public final class ApiException extends RuntimeException {

    private final int status;
    private final String type;
    private final String param;
    private final String code;

    public ApiException(int status, String type, String param, String code, String message) {
        super(message);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
    }

    /** 400: a field has a bad value. */
    public static ApiException invalid(String param, String message) {
        return new ApiException(400, "invalid_request_error", param, "invalid_value", message);
    }

    /** 400 with a specific code. */
    public static ApiException invalid(String param, String code, String message) {
        return new ApiException(400, "invalid_request_error", param, code, message);
    }

    /** 400: a required field is absent. */
    public static ApiException missing(String param) {
        return new ApiException(400, "invalid_request_error", param, "missing_required_parameter",
                "missing required field '" + param + "'");
    }

    public static ApiException notFound(String param, String code, String message) {
        return new ApiException(404, "invalid_request_error", param, code, message);
    }

    public static ApiException conflict(String code, String message) {
        return new ApiException(409, "invalid_request_error", null, code, message);
    }

    /** The same error for a nested field: {@code prompt} becomes {@code body.prompt}. */
    public ApiException under(String prefix) {
        return new ApiException(status, type, param == null ? prefix : prefix + "." + param, code, getMessage());
    }

    public int status() {
        return status;
    }

    public String type() {
        return type;
    }

    public String param() {
        return param;
    }

    public String code() {
        return code;
    }
}
