package dev.bunshin.submitter.cluster;

import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;

/**
 * The dashboard's addresses: {@code /} and {@code /ui} send the browser to {@code /ui/}, where the page
 * (src/main/resources/META-INF/resources/ui/) is served. Plain Vert.x routes, not API routes: the page must load
 * without a key, then asks for one when {@code /v1/cluster} answers 401.
 */
@Singleton
public class DashboardRoutes {

    void routes(@Observes Router router) {
        // Vert.x matches "/ui" for "/ui/" too: only the exact paths redirect, the rest goes on to the files.
        router.get("/").handler(rc -> redirect(rc, "/"));
        router.get("/ui").handler(rc -> redirect(rc, "/ui"));
    }

    private static void redirect(RoutingContext rc, String exactly) {
        if (exactly.equals(rc.request().path())) {
            rc.redirect("/ui/");
        } else {
            rc.next();
        }
    }
}
