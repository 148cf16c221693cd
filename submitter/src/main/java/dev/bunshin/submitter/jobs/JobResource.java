package dev.bunshin.submitter.jobs;

import dev.bunshin.submitter.api.ApiException;
import dev.bunshin.submitter.api.EventStream;
import dev.bunshin.submitter.api.RequestClient;
import io.vertx.core.http.HttpServerResponse;
import jakarta.ws.rs.core.Context;
import dev.bunshin.submitter.api.Fields;
import dev.bunshin.submitter.api.RequestTenant;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.smallrye.common.annotation.RunOnVirtualThread;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.StreamingOutput;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The native job API: submit, inspect, list, cancel, and follow a job's tokens as server-sent events. */
@Path("/v1/jobs")
@Produces(MediaType.APPLICATION_JSON)
public class JobResource {

    static final int DEFAULT_PAGE = 20;
    static final int MAX_PAGE = 200;

    private final JobService jobs;
    private final JobRequests requests;
    private final TokenFeed feed;
    private final ObjectMapper mapper;
    private final RequestTenant tenant;

    JobResource(JobService jobs, JobRequests requests, TokenFeed feed, ObjectMapper mapper, RequestTenant tenant) {
        this.jobs = jobs;
        this.requests = requests;
        this.feed = feed;
        this.mapper = mapper;
        this.tenant = tenant;
    }

    @POST
    @Consumes(MediaType.WILDCARD)
    public Response submit(byte[] body) {
        JobSpec spec = requests.job(Fields.parse(mapper, body));
        Job job = jobs.create(spec, tenant.get());
        Map<String, Object> m = JobView.summary(job);
        return Response.accepted(m).header("Location", "/v1/jobs/" + job.id).build();
    }

    @GET
    @Path("{id}")
    public Map<String, Object> get(@PathParam("id") String id) {
        return JobView.of(jobs.snapshot(parseId(id), tenant.get()));
    }

    @GET
    public Map<String, Object> list(@QueryParam("status") String status, @QueryParam("limit") String limit,
                                    @QueryParam("after") String after) {
        if (status != null && !List.of(Job.QUEUED, Job.RUNNING, Job.COMPLETED, Job.FAILED, Job.CANCELLED).contains(status)) {
            throw ApiException.invalid("status", "'status' must be one of queued, running, completed, failed, "
                    + "cancelled; got '" + status + "'");
        }
        int n = limit == null ? DEFAULT_PAGE : parseInt("limit", limit);
        if (n < 1 || n > MAX_PAGE) {
            throw ApiException.invalid("limit", "'limit' must be between 1 and " + MAX_PAGE + ", got " + n);
        }
        long cursor = after == null ? 0 : parseLong("after", after);
        List<Job> page = jobs.list(status, n, cursor, tenant.get());
        boolean more = page.size() > n;
        List<Job> shown = more ? page.subList(0, n) : page;
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("object", "list");
        m.put("data", shown.stream().map(JobView::summary).toList());
        m.put("has_more", more);
        m.put("next", more ? String.valueOf(shown.getLast().id) : null);
        return m;
    }

    /**
     * Cancels a queued or running job: 200 with the job. Cancelling a cancelled job is idempotent (200 again);
     * a job that already completed or failed answers 409.
     */
    @DELETE
    @Path("{id}")
    public Map<String, Object> cancel(@PathParam("id") String id) {
        long jobId = parseId(id);
        jobs.cancel(jobId, tenant.get());
        return JobView.of(jobs.snapshot(jobId, tenant.get()));
    }

    /**
     * The job's tokens as server-sent events: {@code id: <position>} and {@code {"position","token","text"}} per
     * token, then {@code event: done}. {@code Last-Event-ID: N} resumes with the positions after N.
     */
    @GET
    @Path("{id}/events")
    @Produces({MediaType.SERVER_SENT_EVENTS, MediaType.APPLICATION_JSON})
    @RunOnVirtualThread
    public Response events(@PathParam("id") String id, @HeaderParam("Last-Event-ID") String lastEventId,
                           @Context HttpServerResponse response) {
        long jobId = parseId(id);
        jobs.find(jobId, tenant.get()); // 404 as JSON before the stream starts
        int after = lastEventId == null || lastEventId.isBlank() ? -1 : position("Last-Event-ID", lastEventId.trim());
        Client client = RequestClient.of(response);
        StreamingOutput body = out -> {
            EventStream sse = new EventStream(out, mapper).openSse();
            try {
                TokenFeed.End end = feed.follow(jobId, after, new TokenFeed.Listener() {
                    @Override
                    public void token(TokenFeed.Token t) throws IOException {
                        Map<String, Object> data = new LinkedHashMap<>();
                        data.put("position", t.position());
                        data.put("token", t.tokenId());
                        data.put("text", t.text());
                        sse.event(String.valueOf(t.position()), null, data);
                    }

                    @Override
                    public void idle() throws IOException {
                        sse.comment("waiting");
                    }

                    @Override
                    public void check() throws IOException {
                        client.check(); // a client that left ends the stream (the job goes on)
                    }
                });
                sse.event(null, "done", done(jobId, end));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("stream of job " + jobId + " interrupted");
            }
        };
        return Response.ok(body, MediaType.SERVER_SENT_EVENTS)
                .header("Cache-Control", "no-cache")
                .header("X-Accel-Buffering", "no")
                .build();
    }

    static Map<String, Object> done(long jobId, TokenFeed.End end) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", jobId);
        m.put("status", end.status());
        m.put("finish_reason", end.finishReason());
        m.put("error", end.error());
        m.put("usage", usage(end.promptTokens(), end.tokenCount()));
        return m;
    }

    public static Map<String, Object> usage(int prompt, int completion) {
        Map<String, Object> u = new LinkedHashMap<>();
        u.put("prompt_tokens", prompt);
        u.put("completion_tokens", completion);
        u.put("total_tokens", prompt + completion);
        return u;
    }

    static long parseId(String id) {
        try {
            return Long.parseLong(id);
        } catch (NumberFormatException e) {
            throw ApiException.notFound("id", "job_not_found", "job '" + id + "' does not exist (ids are integers)");
        }
    }

    public static int parseInt(String param, String value) {
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw ApiException.invalid(param, "'" + param + "' must be an integer, got '" + value + "'");
        }
    }

    /** A token position as a client echoes it (an event id): an integer >= 0. */
    static int position(String param, String value) {
        int p = parseInt(param, value);
        if (p < 0) {
            throw ApiException.invalid(param, "'" + param + "' must be a token position (an integer >= 0), got " + p);
        }
        return p;
    }

    static long parseLong(String param, String value) {
        try {
            return Long.parseLong(value);
        } catch (NumberFormatException e) {
            throw ApiException.invalid(param, "'" + param + "' must be an integer, got '" + value + "'");
        }
    }
}
