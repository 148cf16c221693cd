package dev.bunshin.submitter.ollama;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bunshin.submitter.api.ApiException;
import dev.bunshin.submitter.api.Fields;
import dev.bunshin.submitter.api.RequestClient;
import dev.bunshin.submitter.api.RequestTenant;
import dev.bunshin.submitter.jobs.Embeddings;
import dev.bunshin.submitter.jobs.JobSpec;
import dev.bunshin.submitter.model.ServedModel;
import dev.bunshin.submitter.model.ServedModels;
import io.smallrye.common.annotation.RunOnVirtualThread;
import io.vertx.core.http.HttpServerResponse;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Ollama's {@code POST /api/embed} ({@code input} a string or strings; {@code truncate}, default true, keeps what fits
 * the context; vectors L2-normalised) and the legacy {@code POST /api/embeddings} ({@code prompt}; the raw pooled
 * vector, as Ollama answers it). One embedding job per input.
 */
@Path("/api")
@Produces(MediaType.APPLICATION_JSON)
public class OllamaEmbedResource {

    private final ServedModels models;
    private final Embeddings embeddings;
    private final ObjectMapper mapper;
    private final RequestTenant tenant;

    OllamaEmbedResource(ServedModels models, Embeddings embeddings, ObjectMapper mapper, RequestTenant tenant) {
        this.models = models;
        this.embeddings = embeddings;
        this.mapper = mapper;
        this.tenant = tenant;
    }

    @POST
    @Path("embed")
    @Consumes(MediaType.WILDCARD)
    @RunOnVirtualThread
    public Map<String, Object> embed(byte[] body, @Context HttpServerResponse response) {
        long t0 = System.nanoTime();
        Fields f = Fields.parse(mapper, body);
        ServedModel m = models.resolve(model(f), "model");
        boolean truncate = !Boolean.FALSE.equals(f.bool("truncate"));
        JsonNode input = f.raw("input");
        List<JobSpec> specs = new ArrayList<>();
        if (input == null || input.isNull()) throw ApiException.missing("input");
        if (input.isTextual()) {
            specs.add(Embeddings.spec(m, input.asText(), null, "input", truncate));
        } else if (input.isArray() && !input.isEmpty()) {
            for (int i = 0; i < input.size(); i++) {
                String param = "input[" + i + "]";
                if (!input.get(i).isTextual()) throw ApiException.invalid(param, "'" + param + "' must be a string");
                specs.add(Embeddings.spec(m, input.get(i).asText(), null, param, truncate));
            }
        } else {
            throw ApiException.invalid("input", "'input' must be a string or a non-empty array of strings");
        }
        List<Embeddings.Result> results = embeddings.run(specs, tenant.get(), RequestClient.of(response), true);
        List<float[]> vectors = new ArrayList<>(results.size());
        int tokens = 0;
        for (Embeddings.Result r : results) {
            vectors.add(r.embedding());
            tokens += r.promptTokens();
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("model", m.id());
        out.put("embeddings", vectors);
        out.put("total_duration", System.nanoTime() - t0);
        out.put("load_duration", 0);
        out.put("prompt_eval_count", tokens);
        return out;
    }

    @POST
    @Path("embeddings")
    @Consumes(MediaType.WILDCARD)
    @RunOnVirtualThread
    public Map<String, Object> embeddings(byte[] body, @Context HttpServerResponse response) {
        Fields f = Fields.parse(mapper, body);
        ServedModel m = models.resolve(model(f), "model");
        String prompt = f.requiredString("prompt");
        List<Embeddings.Result> results = embeddings.run(List.of(Embeddings.spec(m, prompt, null, "prompt", true)),
                tenant.get(), RequestClient.of(response), false);
        return Map.of("embedding", results.getFirst().embedding());
    }

    private static String model(Fields f) {
        String model = f.string("model");
        return model != null ? model : f.string("name");
    }
}
