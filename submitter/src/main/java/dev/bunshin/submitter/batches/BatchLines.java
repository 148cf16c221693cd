package dev.bunshin.submitter.batches;

import dev.bunshin.submitter.api.ApiException;
import dev.bunshin.submitter.api.Fields;
import dev.bunshin.submitter.jobs.JobSpec;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Reads a batch file: JSONL, one request per line in OpenAI's batch line shape
 * {@code {"custom_id", "method": "POST", "url", "body"}}. Every line is checked on its own, so a bad line becomes
 * an error naming its number and field while the good lines go on to become jobs.
 */
final class BatchLines {

    /** A valid line, ready to become a job. */
    record Accepted(int line, String customId, String url, JobSpec spec) {}

    /** A rejected line. */
    record Rejected(int line, String customId, String param, String code, String message) {}

    record Result(List<Accepted> accepted, List<Rejected> rejected, int total) {}

    static final int MAX_CUSTOM_ID = 512;

    private BatchLines() {}

    /**
     * @param endpoint the url every line must name (OpenAI batches), or null to allow any supported url
     */
    static Result read(byte[] content, String endpoint, ObjectMapper mapper, RequestRouter router) {
        String text = new String(content, StandardCharsets.UTF_8);
        if (!text.isEmpty() && text.charAt(0) == '\uFEFF') {
            text = text.substring(1); // a byte-order mark some editors write
        }
        List<Accepted> accepted = new ArrayList<>();
        List<Rejected> rejected = new ArrayList<>();
        Set<String> customIds = new HashSet<>();
        String[] lines = text.split("\n", -1);
        int total = 0;
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].endsWith("\r") ? lines[i].substring(0, lines[i].length() - 1) : lines[i];
            if (line.isBlank()) {
                continue;
            }
            total++;
            int number = i + 1;
            String customId = null;
            try {
                JsonNode node;
                try {
                    node = mapper.readTree(line);
                } catch (JsonProcessingException e) {
                    throw ApiException.invalid(null, "invalid_json", "line " + number + " is not valid JSON: "
                            + e.getOriginalMessage());
                }
                Fields f = Fields.of(node, "line " + number);
                customId = node.path("custom_id").isTextual() ? node.get("custom_id").asText() : null;
                String cid = f.requiredString("custom_id");
                if (cid.isBlank() || cid.length() > MAX_CUSTOM_ID) {
                    throw ApiException.invalid("custom_id", "'custom_id' must be a non-blank string of at most "
                            + MAX_CUSTOM_ID + " characters");
                }
                if (!customIds.add(cid)) {
                    throw ApiException.invalid("custom_id", "duplicate_custom_id", "custom_id '" + cid
                            + "' is used by an earlier line; custom_id must be unique in a batch");
                }
                String method = f.string("method");
                if (method != null && !method.equals("POST")) {
                    throw ApiException.invalid("method", "'method' must be POST, got '" + method + "'");
                }
                String url = f.requiredString("url");
                if (!RequestRouter.URLS.contains(url)) {
                    throw ApiException.invalid("url", "unsupported_url", "'url' must be one of "
                            + String.join(", ", RequestRouter.URLS) + "; got '" + url + "'");
                }
                if (endpoint != null && !endpoint.equals(url)) {
                    throw ApiException.invalid("url", "mismatched_endpoint", "'url' is '" + url
                            + "' but this batch's endpoint is '" + endpoint + "'");
                }
                Fields body = Fields.of(f.raw("body") == null ? null : f.raw("body"), "'body'");
                JobSpec spec;
                try {
                    if (Boolean.TRUE.equals(body.bool("stream"))) {
                        throw ApiException.invalid("stream", "batch requests cannot stream; leave 'stream' out");
                    }
                    spec = router.spec(url, body);
                } catch (ApiException e) {
                    throw e.under("body");
                }
                accepted.add(new Accepted(number, cid, url, spec));
            } catch (ApiException e) {
                String param = e.param();
                if (param == null && e.getMessage().startsWith("'body'")) {
                    param = "body";
                }
                rejected.add(new Rejected(number, customId, param, e.code(), e.getMessage()));
            }
        }
        return new Result(accepted, rejected, total);
    }
}
