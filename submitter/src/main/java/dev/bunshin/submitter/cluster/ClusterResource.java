package dev.bunshin.submitter.cluster;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bunshin.submitter.api.ApiException;
import dev.bunshin.submitter.api.EventStream;
import dev.bunshin.submitter.api.RequestTenant;
import dev.bunshin.submitter.api.Tenant;
import io.smallrye.common.annotation.RunOnVirtualThread;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.StreamingOutput;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.Map;

/**
 * What the cluster is doing: {@code GET /v1/cluster} answers one snapshot, {@code GET /v1/cluster/events} sends one
 * every {@code interval_ms}, and at once when a job starts or ends or a batch moves (the live events), as
 * server-sent events ({@code event: cluster}) until the client goes away. The
 * dashboard at {@code /ui} and {@code ./bunshin status} read these.
 */
@Path("/v1/cluster")
@Produces(MediaType.APPLICATION_JSON)
public class ClusterResource {

    private static final Logger LOG = Logger.getLogger(ClusterResource.class);

    static final int DEFAULT_JOBS = 20, MAX_JOBS = 200;
    static final int DEFAULT_BATCHES = 10, MAX_BATCHES = 100;
    static final int DEFAULT_INTERVAL_MS = 1000, MIN_INTERVAL_MS = 200, MAX_INTERVAL_MS = 60_000;

    private final ClusterService cluster;
    private final ClusterChanges changes;
    private final ObjectMapper mapper;
    private final RequestTenant tenant;

    ClusterResource(ClusterService cluster, ClusterChanges changes, ObjectMapper mapper, RequestTenant tenant) {
        this.cluster = cluster;
        this.changes = changes;
        this.mapper = mapper;
        this.tenant = tenant;
    }

    @GET
    @RunOnVirtualThread
    public Map<String, Object> get(@QueryParam("jobs") String jobs, @QueryParam("batches") String batches) {
        return cluster.snapshot(tenant.get(), bounded("jobs", jobs, DEFAULT_JOBS, 1, MAX_JOBS),
                bounded("batches", batches, DEFAULT_BATCHES, 0, MAX_BATCHES));
    }

    @GET
    @Path("events")
    @Produces({MediaType.SERVER_SENT_EVENTS, MediaType.APPLICATION_JSON})
    @RunOnVirtualThread
    public Response events(@QueryParam("jobs") String jobs, @QueryParam("batches") String batches,
                           @QueryParam("interval_ms") String intervalMs) {
        int nJobs = bounded("jobs", jobs, DEFAULT_JOBS, 1, MAX_JOBS);
        int nBatches = bounded("batches", batches, DEFAULT_BATCHES, 0, MAX_BATCHES);
        int interval = bounded("interval_ms", intervalMs, DEFAULT_INTERVAL_MS, MIN_INTERVAL_MS, MAX_INTERVAL_MS);
        Tenant who = tenant.get(); // the request scope is gone once the body streams
        StreamingOutput body = out -> {
            EventStream sse = new EventStream(out, mapper);
            try {
                stream(sse, who, nJobs, nBatches, interval);
            } catch (IOException e) {
                // The client went away: the usual end of an endless stream, nothing to report.
                LOG.debugf("cluster stream ended: %s", e.getMessage());
            }
        };
        return Response.ok(body, MediaType.SERVER_SENT_EVENTS)
                .header("Cache-Control", "no-cache")
                .header("X-Accel-Buffering", "no")
                .build();
    }

    /**
     * Snapshots until the server shuts down, every {@code interval} ms and on each change the events announce
     * ({@link ClusterChanges}); a write to a client that left throws IOException.
     */
    private void stream(EventStream sse, Tenant who, int nJobs, int nBatches, int interval) throws IOException {
        sse.comment("cluster snapshots every " + interval + " ms");
        while (!cluster.closing()) {
            long seen = changes.version(); // before the read: a change during it brings the next one early
            long sent = System.nanoTime();
            try {
                sse.event(null, "cluster", cluster.snapshot(who, nJobs, nBatches));
            } catch (IllegalStateException e) {
                // The database is away: say so, keep the stream (and the page) open, try again next time.
                LOG.debugf("cluster snapshot failed: %s", e.getMessage());
                sse.comment("snapshot unavailable: database unreachable");
            }
            try {
                changes.await(seen, interval);
                long since = (System.nanoTime() - sent) / 1_000_000;
                if (since < ClusterChanges.MIN_GAP_MILLIS) Thread.sleep(ClusterChanges.MIN_GAP_MILLIS - since);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("cluster stream interrupted");
            }
        }
    }

    /** An optional integer query parameter within [min, max]; otherwise 400 naming it. */
    static int bounded(String param, String value, int fallback, int min, int max) {
        if (value == null || value.isBlank()) return fallback;
        int n;
        try {
            n = Integer.parseInt(value.strip());
        } catch (NumberFormatException e) {
            throw ApiException.invalid(param, "'" + param + "' must be an integer, got '" + value + "'");
        }
        if (n < min || n > max) {
            throw ApiException.invalid(param, "'" + param + "' must be between " + min + " and " + max + ", got " + n);
        }
        return n;
    }
}
