package dev.bunshin.submitter.api;

import io.vertx.core.http.HttpServerRequest;
import jakarta.enterprise.context.RequestScoped;
import jakarta.inject.Inject;
import jakarta.ws.rs.core.HttpHeaders;

/**
 * The {@link Tenant} of the request being served, for resources to hand to services. The key was already checked
 * by {@link ApiKeys}' filter; this only says whose it is.
 */
@RequestScoped
public class RequestTenant {

    @Inject
    HttpServerRequest request;
    @Inject
    ApiKeys keys;
    private Tenant tenant;

    public Tenant get() {
        if (tenant == null) {
            tenant = keys.tenantOf(request.getHeader(HttpHeaders.AUTHORIZATION));
        }
        return tenant;
    }
}
