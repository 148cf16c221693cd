package dev.bunshin.submitter.openai;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bunshin.submitter.api.Fields;
import dev.bunshin.submitter.api.RequestClient;
import dev.bunshin.submitter.api.RequestTenant;
import io.smallrye.common.annotation.RunOnVirtualThread;
import io.vertx.core.http.HttpServerResponse;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;

import java.util.Map;

/** {@code POST /v1/embeddings} in OpenAI's shape ({@link OpenAiEmbeddings}). */
@Path("/v1")
@Produces(MediaType.APPLICATION_JSON)
public class OpenAiEmbeddingsResource {

    private final OpenAiEmbeddings embeddings;
    private final ObjectMapper mapper;
    private final RequestTenant tenant;

    OpenAiEmbeddingsResource(OpenAiEmbeddings embeddings, ObjectMapper mapper, RequestTenant tenant) {
        this.embeddings = embeddings;
        this.mapper = mapper;
        this.tenant = tenant;
    }

    @POST
    @Path("embeddings")
    @Consumes(MediaType.WILDCARD)
    @RunOnVirtualThread
    public Map<String, Object> embeddings(byte[] body, @Context HttpServerResponse response) {
        return embeddings.embed(Fields.parse(mapper, body), tenant.get(), RequestClient.of(response));
    }
}
