package dev.bunshin.submitter.openai;

import dev.bunshin.submitter.api.ApiException;
import dev.bunshin.submitter.jobs.Completions;
import dev.bunshin.submitter.api.EventStream;
import dev.bunshin.submitter.api.RequestClient;
import io.vertx.core.http.HttpServerResponse;
import jakarta.ws.rs.core.Context;
import dev.bunshin.submitter.api.Fields;
import dev.bunshin.submitter.api.RequestTenant;
import dev.bunshin.submitter.jobs.Job;
import dev.bunshin.submitter.jobs.JobService;
import dev.bunshin.submitter.jobs.TokenFeed;
import dev.bunshin.submitter.model.ServedModels;
import dev.bunshin.submitter.model.ToolCallFormat;
import dev.bunshin.submitter.model.ToolCallStream;
import dev.bunshin.submitter.model.ToolCalls;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.smallrye.common.annotation.RunOnVirtualThread;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.StreamingOutput;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * OpenAI-compatible routes: models, completions and chat completions, blocking or streamed as server-sent events
 * ending with {@code data: [DONE]}. Every request is a job, visible under /v1/jobs.
 */
@Path("/v1")
@Produces(MediaType.APPLICATION_JSON)
public class OpenAiResource {

    /** The SSE comment sent while a stream's job is queued or silent: every SSE client ignores comments. */
    static final String KEEP_ALIVE = "keep-alive";

    private final ServedModels models;
    private final OpenAiRequests requests;
    private final Completions completions;
    private final ObjectMapper mapper;
    private final RequestTenant tenant;
    private final TokenFeed feed;

    OpenAiResource(ServedModels models, OpenAiRequests requests, Completions completions, ObjectMapper mapper,
                   RequestTenant tenant, TokenFeed feed) {
        this.models = models;
        this.feed = feed;
        this.requests = requests;
        this.completions = completions;
        this.mapper = mapper;
        this.tenant = tenant;
    }

    @GET
    @Path("models")
    public Map<String, Object> models() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("object", "list");
        m.put("data", models.all().stream().map(OpenAiObjects::model).toList());
        return m;
    }

    @GET
    @Path("models/{id}")
    public Map<String, Object> model(@PathParam("id") String id) {
        return OpenAiObjects.model(models.resolve(id, "model"));
    }

    @POST
    @Path("completions")
    @Consumes(MediaType.WILDCARD)
    @Produces({MediaType.APPLICATION_JSON, MediaType.SERVER_SENT_EVENTS})
    @RunOnVirtualThread
    public Response completions(byte[] body, @Context HttpServerResponse response) {
        Fields f = Fields.parse(mapper, body);
        Job job = completions.submit(requests.completion(f), tenant.get());
        if (Boolean.TRUE.equals(f.bool("stream"))) {
            boolean usage = OpenAiRequests.includeUsage(f);
            OpenAiLogprobs logprobs = OpenAiLogprobs.forStream(job, models);
            return sse(completions.answer(job, RequestClient.of(response), out -> {
                EventStream sse = new EventStream(out, mapper).openSse();
                JobService.Snapshot s = completions.stream(job, t -> {
                    if (logprobs != null) logprobs.add(t);
                    if (!t.text().isEmpty()) {
                        sse.event(null, null, OpenAiObjects.completionChunk(job, t.text(), null,
                                logprobs == null ? null : logprobs.takeCompletion()));
                    }
                }, () -> sse.comment(KEEP_ALIVE), RequestClient.of(response));
                end(sse, s, OpenAiObjects.completionChunk(s.job(), "", OpenAiObjects.finishReason(s.job().finishReason),
                                logprobs == null ? null : logprobs.takeCompletion()),
                        usage ? OpenAiObjects.usageChunk(s.job(), "text_completion", s.tokenCount()) : null);
            }));
        }
        JobService.Snapshot s = completions.await(job, RequestClient.of(response));
        if (Job.FAILED.equals(s.job().status)) {
            throw Completions.failed(s.job());
        }
        return Response.ok(OpenAiObjects.completion(s.job(), s.text(), s.tokenCount(),
                OpenAiLogprobs.answer(s.job(), models, feed))).build();
    }

    @POST
    @Path("chat/completions")
    @Consumes(MediaType.WILDCARD)
    @Produces({MediaType.APPLICATION_JSON, MediaType.SERVER_SENT_EVENTS})
    @RunOnVirtualThread
    public Response chat(byte[] body, @Context HttpServerResponse response) {
        Fields f = Fields.parse(mapper, body);
        Job job = completions.submit(requests.chat(f), tenant.get());
        if (Boolean.TRUE.equals(f.bool("stream"))) {
            boolean usage = OpenAiRequests.includeUsage(f);
            OpenAiLogprobs logprobs = OpenAiLogprobs.forStream(job, models);
            return sse(completions.answer(job, RequestClient.of(response), out -> {
                EventStream sse = new EventStream(out, mapper).openSse();
                Map<String, Object> role = new LinkedHashMap<>();
                role.put("role", "assistant");
                role.put("content", "");
                sse.event(null, null, OpenAiObjects.chatChunk(job, role, null, null));
                ToolCallFormat format = ToolCallFormat.ofSql(job.toolCallFormat);
                ToolCallStream calls = format == null ? null
                        : new ToolCallStream(format, job.singleToolCall ? 1 : Integer.MAX_VALUE);
                JobService.Snapshot s = completions.stream(job, t -> {
                    if (logprobs != null) logprobs.add(t);
                    String text = calls == null ? t.text() : calls.add(t.text());
                    if (!text.isEmpty()) {
                        sse.event(null, null, OpenAiObjects.chatChunk(job, Map.of("content", text), null,
                                logprobs == null ? null : logprobs.takeChat()));
                    }
                    if (calls != null) {
                        for (ToolCallStream.CallDelta d : calls.takeCalls()) {
                            sse.event(null, null, OpenAiObjects.chatChunk(job,
                                    Map.of("tool_calls", List.of(OpenAiObjects.toolCallDelta(job, d))), null, null));
                        }
                    }
                }, () -> sse.comment(KEEP_ALIVE), RequestClient.of(response));
                String finish = OpenAiObjects.finishReason(s.job().finishReason);
                if (calls != null && !Job.FAILED.equals(s.job().status)) {
                    ToolCalls.Parsed held = calls.finish();
                    int streamed = calls.streamedCalls();
                    List<ToolCalls.Call> answered = OpenAiObjects.answered(job, held.calls());
                    // Calls streamed that do not parse at the end were cut off (max_tokens): they stay as sent,
                    // and the held text, which holds their markup, is not sent as content.
                    if (streamed == 0 || answered.size() >= streamed) {
                        if (held.content() != null) {
                            sse.event(null, null, OpenAiObjects.chatChunk(job, Map.of("content", held.content()), null, null));
                        }
                        for (int i = streamed; i < answered.size(); i++) {
                            sse.event(null, null, OpenAiObjects.chatChunk(job, Map.of("tool_calls",
                                    OpenAiObjects.toolCalls(job, answered.subList(i, i + 1), i, true)), null, null));
                        }
                        finish = answered.isEmpty() ? finish : "tool_calls";
                    }
                }
                end(sse, s, OpenAiObjects.chatChunk(s.job(), Map.of(), finish,
                                logprobs == null ? null : logprobs.takeChat()),
                        usage ? OpenAiObjects.usageChunk(s.job(), "chat.completion.chunk", s.tokenCount()) : null);
            }));
        }
        JobService.Snapshot s = completions.await(job, RequestClient.of(response));
        if (Job.FAILED.equals(s.job().status)) {
            throw Completions.failed(s.job());
        }
        return Response.ok(OpenAiObjects.chat(s.job(), s.text(), s.tokenCount(),
                OpenAiLogprobs.answer(s.job(), models, feed))).build();
    }

    /** The last chunk (or an error object if the job failed), the usage chunk if asked for, then [DONE]. */
    private void end(EventStream sse, JobService.Snapshot s, Map<String, Object> last, Map<String, Object> usage)
            throws java.io.IOException {
        if (Job.FAILED.equals(s.job().status)) {
            ApiException e = Completions.failed(s.job());
            Map<String, Object> error = new LinkedHashMap<>();
            error.put("message", e.getMessage());
            error.put("type", e.type());
            error.put("param", null);
            error.put("code", e.code());
            sse.event(null, null, Map.of("error", error));
        } else {
            sse.event(null, null, last);
            if (usage != null) {
                sse.event(null, null, usage);
            }
        }
        sse.event(null, null, "[DONE]");
    }

    static Response sse(StreamingOutput body) {
        return Response.ok(body, MediaType.SERVER_SENT_EVENTS)
                .header("Cache-Control", "no-cache")
                .header("X-Accel-Buffering", "no")
                .build();
    }
}
