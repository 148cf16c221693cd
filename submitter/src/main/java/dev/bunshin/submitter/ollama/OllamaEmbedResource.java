package dev.bunshin.submitter.ollama;

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

/** Ollama's {@code POST /api/embed} and the legacy {@code POST /api/embeddings} ({@link OllamaEmbeddings}). */
@Path("/api")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.WILDCARD)
public class OllamaEmbedResource {

    private final OllamaEmbeddings ollama;
    private final RequestTenant tenant;
    private final ObjectMapper mapper;

    OllamaEmbedResource(OllamaEmbeddings ollama, RequestTenant tenant, ObjectMapper mapper) {
        this.ollama = ollama;
        this.tenant = tenant;
        this.mapper = mapper;
    }

    @POST
    @Path("embed")
    @RunOnVirtualThread
    public Map<String, Object> embed(byte[] body, @Context HttpServerResponse response) {
        return ollama.embed(Fields.parse(mapper, body), tenant.get(), RequestClient.of(response));
    }

    @POST
    @Path("embeddings")
    @RunOnVirtualThread
    public Map<String, Object> embeddings(byte[] body, @Context HttpServerResponse response) {
        return ollama.legacy(Fields.parse(mapper, body), tenant.get(), RequestClient.of(response));
    }
}
