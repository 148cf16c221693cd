package dev.bunshin.submitter.openai;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bunshin.engine.gguf.GgufKeys;
import dev.bunshin.submitter.api.ApiException;
import dev.bunshin.submitter.api.Fields;
import dev.bunshin.submitter.api.Tenant;
import dev.bunshin.submitter.jobs.Client;
import dev.bunshin.submitter.jobs.Embeddings;
import dev.bunshin.submitter.jobs.JobSpec;
import dev.bunshin.submitter.model.ServedModel;
import jakarta.enterprise.context.ApplicationScoped;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * OpenAI's embeddings request and answer: {@code input} a string, an array of strings, an array of token ids or an
 * array of such arrays, one embedding job per input; vectors L2-normalised, as llama-server answers;
 * {@code encoding_format} {@code float} or {@code base64} (little-endian float32); {@code dimensions} only the
 * model's own embedding length. Read for {@code POST /v1/embeddings} and for batch lines naming that url.
 */
@ApplicationScoped
public class OpenAiEmbeddings {

    /** A read request: its model, one job spec per input, and whether vectors are answered in base64. */
    public record Request(ServedModel model, List<JobSpec> specs, boolean base64) {
    }

    private final Embeddings embeddings;

    OpenAiEmbeddings(Embeddings embeddings) {
        this.embeddings = embeddings;
    }

    /** Reads the request, runs its jobs and answers the embeddings object. */
    public Map<String, Object> embed(Fields f, Tenant tenant, Client client) {
        Request r = read(f);
        return answer(r.model().id(), embeddings.run(r.specs(), tenant, client, true), r.base64());
    }

    /**
     * @throws ApiException 400 naming the field: an unknown {@code encoding_format}, {@code dimensions} other than
     *                      the model's, an {@code input} of the wrong shape, empty, out of the vocabulary or too long
     */
    public Request read(Fields f) {
        ServedModel m = embeddings.model(f.requiredString("model"), "model");
        String format = f.string("encoding_format");
        if (format != null && !format.equals("float") && !format.equals("base64")) {
            throw ApiException.invalid("encoding_format", "'encoding_format' must be 'float' or 'base64', got '"
                    + format + "'");
        }
        Integer dimensions = f.integer("dimensions");
        int nEmbd = m.file().getInt(GgufKeys.arch(m.architecture(), GgufKeys.EMBEDDING_LENGTH), 0);
        if (dimensions != null && dimensions != nEmbd) {
            throw ApiException.invalid("dimensions", "'dimensions' " + dimensions + " is not supported: model "
                    + m.id() + " embeds in " + nEmbd + " dimensions only");
        }
        f.string("user");
        return new Request(m, specs(m, f.raw("input")), "base64".equals(format));
    }

    /** The embeddings object: one {@code embedding} per result, in order, and the prompt tokens they took. */
    public static Map<String, Object> answer(String model, List<Embeddings.Result> results, boolean base64) {
        List<Object> data = new ArrayList<>(results.size());
        int tokens = 0;
        for (int i = 0; i < results.size(); i++) {
            Embeddings.Result r = results.get(i);
            tokens += r.promptTokens();
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("object", "embedding");
            d.put("index", i);
            d.put("embedding", base64 ? base64(r.embedding()) : r.embedding());
            data.add(d);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("object", "list");
        out.put("data", data);
        out.put("model", model);
        out.put("usage", Map.of("prompt_tokens", tokens, "total_tokens", tokens));
        return out;
    }

    /** One job spec per input: a string, [string…], [id…] or [[id…]…]. */
    private static List<JobSpec> specs(ServedModel m, JsonNode input) {
        if (input == null || input.isNull()) throw ApiException.missing("input");
        List<JobSpec> out = new ArrayList<>();
        if (input.isTextual()) {
            out.add(Embeddings.spec(m, input.asText(), null, "input", false));
            return out;
        }
        if (!input.isArray() || input.isEmpty()) {
            throw ApiException.invalid("input", "'input' must be a string, an array of strings, an array of token ids "
                    + "or an array of arrays of token ids, non-empty");
        }
        if (input.get(0).isIntegralNumber()) {
            out.add(Embeddings.spec(m, null, ids(input), "input", false));
            return out;
        }
        for (int i = 0; i < input.size(); i++) {
            JsonNode x = input.get(i);
            String param = "input[" + i + "]";
            if (x.isTextual()) out.add(Embeddings.spec(m, x.asText(), null, param, false));
            else if (x.isArray()) out.add(Embeddings.spec(m, null, ids(x), param, false));
            else throw ApiException.invalid(param, "'" + param + "' must be a string or an array of token ids");
        }
        return out;
    }

    private static int[] ids(JsonNode array) {
        int[] t = new int[array.size()];
        for (int i = 0; i < t.length; i++) {
            JsonNode n = array.get(i);
            if (!n.isIntegralNumber() || !n.canConvertToInt()) {
                throw ApiException.invalid("input", "'input' mixes token ids with " + n);
            }
            t[i] = n.intValue();
        }
        return t;
    }

    private static String base64(float[] v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) b.putFloat(x);
        return Base64.getEncoder().encodeToString(b.array());
    }
}
