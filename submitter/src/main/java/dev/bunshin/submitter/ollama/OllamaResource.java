package dev.bunshin.submitter.ollama;

import dev.bunshin.submitter.api.ApiErrors;
import dev.bunshin.submitter.api.ApiException;
import dev.bunshin.submitter.model.ChatTemplates;
import dev.bunshin.submitter.jobs.Completions;
import dev.bunshin.submitter.api.EventStream;
import dev.bunshin.submitter.api.RequestClient;
import dev.bunshin.submitter.jobs.Client;
import io.vertx.core.http.HttpServerResponse;
import jakarta.ws.rs.core.Context;
import dev.bunshin.submitter.api.Fields;
import dev.bunshin.submitter.api.RequestTenant;
import dev.bunshin.submitter.jobs.Job;
import dev.bunshin.submitter.jobs.JobService;
import dev.bunshin.submitter.jobs.JobSpec;
import dev.bunshin.submitter.jobs.JobSpecs;
import dev.bunshin.submitter.jobs.MaxTokens;
import dev.bunshin.submitter.jobs.ResponseFormats;
import dev.bunshin.submitter.openai.OpenAiRequests;
import dev.bunshin.submitter.jobs.Sampling;
import dev.bunshin.submitter.model.ServedModel;
import dev.bunshin.submitter.model.ServedModels;
import dev.bunshin.submitter.model.ToolCallFormat;
import dev.bunshin.submitter.model.ToolCallStream;
import dev.bunshin.submitter.model.ToolCalls;
import dev.bunshin.submitter.openai.ToolRequests;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.bunshin.models.catalog.ModelInfo;
import io.smallrye.common.annotation.RunOnVirtualThread;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Ollama-compatible routes: version, tags, show, generate and chat. Streams are NDJSON (Ollama's default,
 * {@code "stream": false} for one object); errors are Ollama's {@code {"error": "..."}} (see {@link ApiErrors}).
 *
 * <p>While a streamed job is queued or silent, the stream sends a keep-alive every {@code bunshin.api.keepalive-ms}:
 * an ordinary progress object with empty text ({@code "response": ""} or an empty message, {@code "done": false}),
 * as Ollama itself sends for tokens without text. Not an empty line: Ollama's Python client parses every line as
 * JSON and fails on one, and ollama-js warns on each.
 */
@Path("/api")
@Produces(MediaType.APPLICATION_JSON)
public class OllamaResource {

    /** The Ollama API version we answer as: clients check it for feature support. */
    public static final String VERSION = "0.9.0";
    static final String NDJSON = "application/x-ndjson";

    private final ServedModels models;
    private final Completions completions;
    private final ObjectMapper mapper;
    private final RequestTenant tenant;

    OllamaResource(ServedModels models, Completions completions, ObjectMapper mapper, RequestTenant tenant) {
        this.models = models;
        this.completions = completions;
        this.mapper = mapper;
        this.tenant = tenant;
    }

    @GET
    @Path("version")
    public Map<String, Object> version() {
        return Map.of("version", VERSION);
    }

    @GET
    @Path("tags")
    public Map<String, Object> tags() {
        return Map.of("models", models.all().stream().map(this::tag).toList());
    }

    @GET
    @Path("ps")
    public Map<String, Object> ps() {
        return tags();
    }

    @POST
    @Path("show")
    @Consumes(MediaType.WILDCARD)
    public Map<String, Object> show(byte[] body) {
        Fields f = Fields.parse(mapper, body);
        ServedModel m = models.resolve(name(f), "model");
        Map<String, Object> info = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : m.file().metadata().entrySet()) {
            Object v = e.getValue();
            if (!e.getKey().startsWith("tokenizer.") && !v.getClass().isArray()) {
                info.put(e.getKey(), v);
            }
        }
        info.put("general.parameter_count", m.parameterCount());
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("modelfile", "# Bunshin serves " + m.file().path() + "\nFROM " + m.file().path() + "\n");
        out.put("parameters", "");
        out.put("template", m.chatTemplate() == null ? "{{ .Prompt }}" : m.chatTemplate());
        out.put("details", details(m));
        out.put("model_info", info);
        // Tools work with every model: a template without a tool section gets Bunshin's generic tool prompt.
        out.put("capabilities", List.of("completion", "tools"));
        out.put("modified_at", Instant.ofEpochSecond(m.createdEpochSeconds()).toString());
        return out;
    }

    @POST
    @Path("generate")
    @Consumes(MediaType.WILDCARD)
    @Produces({MediaType.APPLICATION_JSON, NDJSON})
    @RunOnVirtualThread
    public Response generate(byte[] body, @Context HttpServerResponse response) {
        Fields f = Fields.parse(mapper, body);
        ServedModel m = models.resolve(name(f), "model");
        String prompt = f.string("prompt");
        boolean stream = !Boolean.FALSE.equals(f.bool("stream"));
        if (prompt == null || prompt.isEmpty()) {
            // Ollama's way to load a model: an empty prompt answers done at once.
            Map<String, Object> r = head(m.id());
            r.put("response", "");
            r.put("done", true);
            r.put("done_reason", "load");
            return Response.ok(r, stream ? NDJSON : MediaType.APPLICATION_JSON).build();
        }
        String system = f.string("system");
        boolean raw = Boolean.TRUE.equals(f.bool("raw"));
        f.string("template");
        f.unsupportedUnlessEmpty("template", "a prompt template other than the model's");
        f.string("suffix");
        f.unsupportedUnlessEmpty("suffix", "fill-in-the-middle");
        f.array("context");
        f.unsupportedUnlessEmpty("context", "continuing from a previous response's context");
        f.array("images");
        f.unsupportedUnlessEmpty("images", "image input");
        JobSpec spec;
        Options o = options(f);
        if (raw || m.chatTemplate() == null) {
            String text = system == null || raw ? prompt : system + "\n\n" + prompt;
            spec = JobSpecs.build(m, "ollama-generate", text, "prompt", false, o.maxTokens(), o.sampling(), null)
                    .withResponseFormat(o.responseFormat());
        } else {
            List<ChatTemplates.Message> messages = new ArrayList<>();
            if (system != null) {
                messages.add(new ChatTemplates.Message("system", system));
            }
            messages.add(new ChatTemplates.Message("user", prompt));
            ChatTemplates.Rendered r = ChatTemplates.render(m, messages, true);
            spec = JobSpecs.build(m, "ollama-generate", r.prompt(), "prompt", true, o.maxTokens(), o.sampling(),
                    r.stopTokens()).withResponseFormat(o.responseFormat());
        }
        return run(spec, stream, false, RequestClient.of(response));
    }

    @POST
    @Path("chat")
    @Consumes(MediaType.WILDCARD)
    @Produces({MediaType.APPLICATION_JSON, NDJSON})
    @RunOnVirtualThread
    public Response chat(byte[] body, @Context HttpServerResponse response) {
        Fields f = Fields.parse(mapper, body);
        ServedModel m = models.resolve(name(f), "model");
        boolean stream = !Boolean.FALSE.equals(f.bool("stream"));
        ToolRequests tools = ToolRequests.read(f, m.chatTemplate());
        List<ChatTemplates.Message> messages = OpenAiRequests.messages(f);
        ArrayNode ms = f.array("messages");
        for (int i = 0; i < ms.size(); i++) {
            JsonNode images = ms.get(i).get("images");
            if (images != null && !images.isNull() && !(images.isArray() && images.isEmpty())) {
                throw ApiException.invalid("messages[" + i + "].images", "unsupported_parameter",
                        "'messages[" + i + "].images' (image input) is not supported");
            }
        }
        Options o = options(f);
        ChatTemplates.Rendered r = ChatTemplates.render(m, messages, tools.tools(), true);
        JobSpec spec = JobSpecs.build(m, "ollama-chat", r.prompt(), "messages", true, o.maxTokens(), o.sampling(),
                r.stopTokens()).withToolCalls(tools.format()).withResponseFormat(o.responseFormat());
        return run(spec, stream, true, RequestClient.of(response));
    }

    private Response run(JobSpec spec, boolean stream, boolean chat, Client client) {
        Job job = completions.submit(spec, tenant.get());
        if (stream) {
            return Response.ok(completions.answer(job, client, out -> {
                EventStream nd = new EventStream(out, mapper).open();
                ToolCallFormat format = ToolCallFormat.ofSql(job.toolCallFormat);
                ToolCallStream calls = format == null ? null : new ToolCallStream(format);
                JobService.Snapshot s = completions.stream(job, t -> {
                    String text = calls == null ? t.text() : calls.add(t.text());
                    if (!text.isEmpty()) {
                        nd.line(piece(job, text, chat));
                    }
                }, () -> nd.line(piece(job, "", chat)), client);
                if (calls != null && !Job.FAILED.equals(s.job().status)) {
                    // As Ollama streams them: the calls in a message of their own, before the final object.
                    ToolCalls.Parsed held = calls.finish();
                    if (held.content() != null || !held.calls().isEmpty()) {
                        Map<String, Object> p = piece(job, held.content() == null ? "" : held.content(), chat);
                        if (!held.calls().isEmpty()) {
                            ((Map<String, Object>) p.get("message")).put("tool_calls", toolCalls(held.calls()));
                        }
                        nd.line(p);
                    }
                }
                nd.line(last(s, "", chat));
            }), NDJSON).build();
        }
        JobService.Snapshot s = completions.await(job, client);
        if (Job.FAILED.equals(s.job().status)) {
            throw Completions.failed(s.job());
        }
        Map<String, Object> answer = last(s, s.text(), chat);
        ToolCallFormat format = ToolCallFormat.ofSql(job.toolCallFormat);
        ToolCalls.Parsed parsed = format == null ? null : ToolCalls.parse(s.text(), format);
        if (parsed != null && !parsed.calls().isEmpty()) {
            Map<String, Object> message = message(parsed.content() == null ? "" : parsed.content());
            message.put("tool_calls", toolCalls(parsed.calls()));
            answer.put("message", message);
        }
        return Response.ok(answer, MediaType.APPLICATION_JSON).build();
    }

    private Map<String, Object> piece(Job job, String text, boolean chat) {
        Map<String, Object> m = head(job.model);
        if (chat) {
            m.put("message", message(text));
        } else {
            m.put("response", text);
        }
        m.put("done", false);
        return m;
    }

    /** The final object: Ollama's counts and durations (nanoseconds) from the job's timings. */
    private Map<String, Object> last(JobService.Snapshot s, String text, boolean chat) {
        Job j = s.job();
        if (Job.FAILED.equals(j.status)) {
            return Map.of("error", Completions.failed(j).getMessage());
        }
        Map<String, Object> m = head(j.model);
        if (chat) {
            m.put("message", message(text));
        } else {
            m.put("response", text);
        }
        m.put("done", true);
        m.put("done_reason", "length".equals(j.finishReason) ? "length" : "stop");
        if (!chat) {
            m.put("context", List.of());
        }
        m.put("total_duration", nanos(j.createdAt, j.finishedAt));
        m.put("load_duration", 0);
        m.put("prompt_eval_count", j.promptTokens.length);
        m.put("prompt_eval_duration", nanos(j.startedAt, j.firstTokenAt));
        m.put("eval_count", s.tokenCount());
        m.put("eval_duration", nanos(j.firstTokenAt, j.finishedAt));
        return m;
    }

    /** Ollama's tool calls: {@code [{"function": {"name": …, "arguments": {…}}}]}, arguments an object. */
    private static List<Map<String, Object>> toolCalls(List<ToolCalls.Call> calls) {
        return calls.stream().map(c -> {
            Map<String, Object> function = new LinkedHashMap<>();
            function.put("name", c.name());
            function.put("arguments", c.arguments());
            return Map.<String, Object>of("function", function);
        }).toList();
    }

    private static Map<String, Object> message(String text) {
        Map<String, Object> msg = new LinkedHashMap<>();
        msg.put("role", "assistant");
        msg.put("content", text);
        return msg;
    }

    private static Map<String, Object> head(String model) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model", model);
        m.put("created_at", Instant.now().toString());
        return m;
    }

    private static long nanos(Instant a, Instant b) {
        return a == null || b == null ? 0 : Duration.between(a, b).toNanos();
    }

    /** @param responseFormat {@code format} as the engine's stored ResponseFormat, or null: free text */
    record Options(MaxTokens maxTokens, Sampling sampling, String responseFormat) {}

    /** Options whose values would change the answer, with the one value that does not: any other is refused. */
    private static final Map<String, Double> UNSUPPORTED_UNLESS = Map.of("typical_p", 1.0, "mirostat", 0.0,
            "tfs_z", 1.0);
    /** Options about the runtime, not the answer: type-checked, then left to the server's own settings. */
    private static final List<String> RUNTIME_INTEGERS = List.of("num_ctx", "num_batch", "num_gpu", "main_gpu",
            "num_thread", "num_keep", "repeat_last_n");
    private static final List<String> RUNTIME_NUMBERS = List.of("mirostat_tau", "mirostat_eta");
    private static final List<String> RUNTIME_BOOLEANS = List.of("numa", "low_vram", "f16_kv", "vocab_only",
            "use_mmap", "use_mlock", "penalize_newline");

    /**
     * Ollama's top-level fields that every generate and chat request may carry, and its {@code options}: the
     * sampling fields under the same names, num_predict (negative: to the context). Each is type-checked; what
     * Bunshin cannot honour is refused by name, never silently ignored.
     */
    private static Options options(Fields f) {
        String format = ResponseFormats.ollama(f);
        f.stringOrNumber("keep_alive");
        JsonNode think = f.raw("think");
        if (think != null && !think.isBoolean() && !think.isTextual()) {
            throw ApiException.invalid("think", "'think' must be true, false or a level, got " + think);
        }
        JsonNode node = f.object("options");
        Fields o = Fields.of(node == null ? f.node().objectNode() : node, "'options'");
        try {
            Sampling s = Sampling.OLLAMA.read(o);
            Integer n = o.integer("num_predict");
            MaxTokens max = n != null && n < 0 ? MaxTokens.fillContext("options.num_predict")
                    : MaxTokens.of(n, "options.num_predict");
            for (var e : UNSUPPORTED_UNLESS.entrySet()) {
                Double v = o.number(e.getKey());
                if (v != null && v.doubleValue() != e.getValue()) {
                    throw ApiException.invalid(e.getKey(), "unsupported_parameter", "'" + e.getKey() + "' other than "
                            + Fields.fmt(e.getValue()) + " is not supported, got " + Fields.fmt(v));
                }
            }
            RUNTIME_INTEGERS.forEach(o::integer);
            RUNTIME_NUMBERS.forEach(o::number);
            RUNTIME_BOOLEANS.forEach(o::bool);
            return new Options(max, s, format);
        } catch (ApiException e) {
            throw e.under("options");
        }
    }

    /** Ollama clients send {@code model}; older ones {@code name}. */
    private static String name(Fields f) {
        String model = f.string("model");
        return model != null ? model : f.string("name");
    }

    private Map<String, Object> tag(ServedModel m) {
        Map<String, Object> t = new LinkedHashMap<>();
        String name = m.id().contains(":") ? m.id() : m.id() + ":latest";
        t.put("name", name);
        t.put("model", name);
        t.put("modified_at", Instant.ofEpochSecond(m.createdEpochSeconds()).toString());
        t.put("size", m.sizeBytes());
        t.put("digest", Long.toHexString(m.sizeBytes()) + Long.toHexString(m.createdEpochSeconds()));
        t.put("details", details(m));
        return t;
    }

    private Map<String, Object> details(ServedModel m) {
        ModelInfo info = ModelInfo.of(m.file());
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("parent_model", "");
        d.put("format", "gguf");
        d.put("family", m.architecture());
        d.put("families", List.of(m.architecture()));
        d.put("parameter_size", ModelInfo.formatCount(m.parameterCount()));
        d.put("quantization_level", info.quantization());
        return d;
    }
}
