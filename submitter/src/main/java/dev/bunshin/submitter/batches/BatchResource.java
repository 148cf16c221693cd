package dev.bunshin.submitter.batches;

import dev.bunshin.submitter.api.ApiException;
import dev.bunshin.submitter.api.Fields;
import dev.bunshin.submitter.api.RequestTenant;
import dev.bunshin.submitter.api.StrictJson;
import dev.bunshin.submitter.jobs.JobResource;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.StreamingOutput;
import org.jboss.resteasy.reactive.RestForm;
import org.jboss.resteasy.reactive.multipart.FileUpload;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Batches. {@code POST /v1/batches} takes either a JSONL body (or a multipart {@code file}) directly, answering
 * 202, or OpenAI's {@code {input_file_id, endpoint, completion_window}} naming an uploaded file, answering 200.
 */
@Path("/v1/batches")
@Produces(MediaType.APPLICATION_JSON)
public class BatchResource {

    static final String JSONL = "application/jsonl";

    private final BatchService batches;
    private final BatchFiles files;
    private final ObjectMapper mapper;
    private final RequestTenant tenant;

    BatchResource(BatchService batches, BatchFiles files, ObjectMapper mapper, RequestTenant tenant) {
        this.batches = batches;
        this.files = files;
        this.mapper = mapper;
        this.tenant = tenant;
    }

    /** A JSONL body: one request per line. */
    @POST
    @Consumes({JSONL, "application/x-ndjson", "application/jsonlines", "application/x-jsonlines", MediaType.TEXT_PLAIN,
            MediaType.APPLICATION_OCTET_STREAM})
    public Response createFromBody(byte[] body) {
        return accepted(batches.create(body, "batch.jsonl", null, null, null, null, tenant.get()));
    }

    @POST
    @Consumes(MediaType.MULTIPART_FORM_DATA)
    public Response createFromUpload(@RestForm("file") FileUpload file) throws IOException {
        if (file == null) {
            throw ApiException.missing("file");
        }
        byte[] content = Files.readAllBytes(file.uploadedFile());
        return accepted(batches.create(content, StrictJson.noNul(file.fileName(), "file"), null, null, null, null,
                tenant.get()));
    }

    /**
     * OpenAI's create-batch body. A JSON body that is not one object naming input_file_id but a JSONL request file
     * (clients often send JSONL as application/json) is taken as one.
     */
    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    public Response createOpenAi(byte[] body) {
        JsonNode node = null;
        try {
            node = StrictJson.read(mapper, body, "request body");
        } catch (ApiException e) {
            // not one JSON value: JSONL, or malformed (reported per line)
        }
        if (node == null || !node.isObject() || node.has("custom_id")) {
            return createFromBody(body);
        }
        Fields f = Fields.of(node, "request body");
        String fileId = f.requiredString("input_file_id");
        String endpoint = f.requiredString("endpoint");
        if (!RequestRouter.URLS.contains(endpoint)) {
            throw ApiException.invalid("endpoint", "unsupported_url", "'endpoint' must be one of "
                    + String.join(", ", RequestRouter.URLS) + "; got '" + endpoint + "'");
        }
        String window = f.string("completion_window");
        if (window != null && !window.matches("\\d+h")) {
            throw ApiException.invalid("completion_window", "'completion_window' must look like 24h, got '" + window + "'");
        }
        JsonNode metadata = f.object("metadata");
        StoredFile file = FileResource.find(fileId, "input_file_id", tenant.get());
        if (!"batch".equals(file.purpose)) {
            throw ApiException.invalid("input_file_id", "file '" + fileId + "' has purpose '" + file.purpose
                    + "', not batch");
        }
        Batch b = batches.create(FileResource.bytes(fileId), file.filename, fileId, endpoint, window,
                metadata == null ? null : metadata.toString(), tenant.get());
        return Response.ok(BatchView.of(b, batches, mapper)).build();
    }

    @GET
    public Map<String, Object> list(@QueryParam("limit") String limit, @QueryParam("after") String after) {
        int n = limit == null ? 20 : JobResource.parseInt("limit", limit);
        if (n < 1 || n > 100) {
            throw ApiException.invalid("limit", "'limit' must be between 1 and 100, got " + n);
        }
        List<Batch> page = batches.list(n, after, tenant.get());
        boolean more = page.size() > n;
        List<Batch> shown = more ? page.subList(0, n) : page;
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("object", "list");
        m.put("data", shown.stream().map(b -> BatchView.of(b, batches, mapper)).toList());
        m.put("first_id", shown.isEmpty() ? null : shown.getFirst().id);
        m.put("last_id", shown.isEmpty() ? null : shown.getLast().id);
        m.put("has_more", more);
        return m;
    }

    @GET
    @Path("{id}")
    public Map<String, Object> get(@PathParam("id") String id) {
        return BatchView.of(batches.get(id, tenant.get()), batches, mapper);
    }

    @POST
    @Path("{id}/cancel")
    public Map<String, Object> cancel(@PathParam("id") String id) {
        return BatchView.of(batches.cancel(id, tenant.get()), batches, mapper);
    }

    /** Results so far, one line per ended request, in input order. */
    @GET
    @Path("{id}/output")
    @Produces(MediaType.WILDCARD)
    public Response output(@PathParam("id") String id) {
        batches.get(id, tenant.get());
        return Response.ok((StreamingOutput) out -> files.writeOutput(id, out), JSONL).build();
    }

    /** The rejected lines, with line number and field. */
    @GET
    @Path("{id}/errors")
    @Produces(MediaType.WILDCARD)
    public Response errors(@PathParam("id") String id) {
        batches.get(id, tenant.get());
        return Response.ok((StreamingOutput) out -> files.writeErrors(id, out), JSONL).build();
    }

    private Response accepted(Batch b) {
        return Response.accepted(BatchView.of(b, batches, mapper)).header("Location", "/v1/batches/" + b.id).build();
    }

    static String utf8(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}
