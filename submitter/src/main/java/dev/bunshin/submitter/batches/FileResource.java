package dev.bunshin.submitter.batches;

import dev.bunshin.submitter.api.ApiException;
import dev.bunshin.submitter.api.RequestTenant;
import dev.bunshin.submitter.api.StrictJson;
import dev.bunshin.submitter.api.Tenant;
import io.quarkus.panache.common.Parameters;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.jboss.resteasy.reactive.RestForm;
import org.jboss.resteasy.reactive.multipart.FileUpload;

import java.io.IOException;
import java.nio.file.Files;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** OpenAI's files API, for batch input files and the output/error files batches write. */
@Path("/v1/files")
@Produces(MediaType.APPLICATION_JSON)
public class FileResource {

    static final List<String> PURPOSES = List.of("batch");

    private final RequestTenant tenant;

    FileResource(RequestTenant tenant) {
        this.tenant = tenant;
    }

    @POST
    @Consumes(MediaType.MULTIPART_FORM_DATA)
    public Map<String, Object> upload(@RestForm("file") FileUpload file, @RestForm("purpose") String purpose)
            throws IOException {
        if (file == null) {
            throw ApiException.missing("file");
        }
        if (purpose == null) {
            throw ApiException.missing("purpose");
        }
        if (!PURPOSES.contains(purpose)) {
            throw ApiException.invalid("purpose", "'purpose' must be one of " + PURPOSES + ", got '" + purpose + "'");
        }
        byte[] content = Files.readAllBytes(file.uploadedFile());
        String name = StrictJson.noNul(file.fileName(), "file");
        StoredFile f = StoredFile.of(purpose, name == null ? "upload.jsonl" : name, content, tenant.get().owner());
        QuarkusTransaction.requiringNew().run(f::persist);
        return view(f);
    }

    @GET
    public Map<String, Object> list(@QueryParam("purpose") String purpose) {
        Tenant t = tenant.get();
        StringBuilder query = new StringBuilder("1 = 1");
        Parameters params = new Parameters();
        if (purpose != null) {
            query.append(" and purpose = :purpose");
            params.and("purpose", purpose);
        }
        if (!t.seesAll()) {
            query.append(" and owner = :owner");
            params.and("owner", t.owner());
        }
        List<StoredFile> files = QuarkusTransaction.requiringNew().call(() ->
                StoredFile.<StoredFile>list(query + " order by createdAt desc", params));
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("object", "list");
        m.put("data", files.stream().map(FileResource::view).toList());
        m.put("has_more", false);
        return m;
    }

    @GET
    @Path("{id}")
    public Map<String, Object> get(@PathParam("id") String id) {
        return view(find(id, "file_id", tenant.get()));
    }

    @GET
    @Path("{id}/content")
    @Produces(MediaType.WILDCARD) // clients ask for application/binary, */*, ...: the bytes are the same
    public Response content(@PathParam("id") String id) {
        StoredFile f = find(id, "file_id", tenant.get());
        return Response.ok(bytes(id), f.filename.endsWith(".jsonl") ? BatchResource.JSONL : MediaType.APPLICATION_OCTET_STREAM)
                .header("Content-Disposition", "attachment; filename=\"" + f.filename.replace("\"", "") + "\"")
                .build();
    }

    /** Deletes a file no batch refers to; 409 otherwise. */
    @DELETE
    @Path("{id}")
    public Map<String, Object> delete(@PathParam("id") String id) {
        find(id, "file_id", tenant.get());
        long refs = QuarkusTransaction.requiringNew().call(() -> Batch.count(
                "inputFileId = ?1 or outputFileId = ?1 or errorFileId = ?1", id));
        if (refs > 0) {
            throw ApiException.conflict("file_in_use", "file '" + id + "' belongs to a batch and cannot be deleted");
        }
        QuarkusTransaction.requiringNew().run(() -> StoredFile.deleteById(id));
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", id);
        m.put("object", "file");
        m.put("deleted", true);
        return m;
    }

    /** The file, or a 404 naming {@code param}: also when it is another tenant's. */
    static StoredFile find(String id, String param, Tenant tenant) {
        StoredFile f = QuarkusTransaction.requiringNew().call(() -> StoredFile.<StoredFile>findById(id));
        if (f == null || !tenant.sees(f.owner)) {
            throw ApiException.notFound(param, "file_not_found", "file '" + id + "' does not exist");
        }
        return f;
    }

    static byte[] bytes(String id) {
        return QuarkusTransaction.requiringNew().call(() -> {
            StoredFile f = StoredFile.findById(id);
            return f.content;
        });
    }

    static Map<String, Object> view(StoredFile f) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", f.id);
        m.put("object", "file");
        m.put("bytes", f.bytes);
        m.put("created_at", f.createdAt.getEpochSecond());
        m.put("filename", f.filename);
        m.put("purpose", f.purpose);
        m.put("status", "processed");
        m.put("status_details", null);
        return m;
    }
}
