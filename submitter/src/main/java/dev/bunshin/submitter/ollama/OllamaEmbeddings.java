package dev.bunshin.submitter.ollama;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bunshin.submitter.api.ApiException;
import dev.bunshin.submitter.api.Fields;
import dev.bunshin.submitter.api.Tenant;
import dev.bunshin.submitter.jobs.Client;
import dev.bunshin.submitter.jobs.Embeddings;
import dev.bunshin.submitter.jobs.JobSpec;
import dev.bunshin.submitter.model.ServedModel;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Ollama's embedding requests and answers: {@code /api/embed} ({@code input} a string or strings; {@code truncate},
 * default true, keeps what fits the context; vectors L2-normalised) and the legacy {@code /api/embeddings}
 * ({@code prompt}; the raw pooled vector, as Ollama answers it). One embedding job per input.
 */
@ApplicationScoped
public class OllamaEmbeddings {

    private final Embeddings embeddings;

    OllamaEmbeddings(Embeddings embeddings) {
        this.embeddings = embeddings;
    }

    /** {@code /api/embed}'s answer: {@code embeddings} in input order, normalised. */
    public Map<String, Object> embed(Fields f, Tenant tenant, Client client) {
        long t0 = System.nanoTime();
        ServedModel m = embeddings.model(model(f), "model");
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
        List<Embeddings.Result> results = embeddings.run(specs, tenant, client, true);
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

    /** The legacy {@code /api/embeddings}' answer: one raw {@code embedding}. */
    public Map<String, Object> legacy(Fields f, Tenant tenant, Client client) {
        ServedModel m = embeddings.model(model(f), "model");
        String prompt = f.requiredString("prompt");
        List<Embeddings.Result> results = embeddings.run(List.of(Embeddings.spec(m, prompt, null, "prompt", true)),
                tenant, client, false);
        return Map.of("embedding", results.getFirst().embedding());
    }

    private static String model(Fields f) {
        String model = f.string("model");
        return model != null ? model : f.string("name");
    }
}
