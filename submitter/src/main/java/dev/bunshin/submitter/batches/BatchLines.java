package dev.bunshin.submitter.batches;

import dev.bunshin.submitter.api.ApiException;
import dev.bunshin.submitter.api.Fields;
import dev.bunshin.submitter.api.StrictJson;
import dev.bunshin.submitter.jobs.JobSpec;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Reads a batch file: JSONL, one request per line in OpenAI's batch line shape
 * {@code {"custom_id", "method": "POST", "url", "body"}}. Every line is checked on its own, so a bad line becomes
 * an error naming its number and field while the good lines go on to become jobs.
 */
final class BatchLines {

    /** A valid line, ready to become its jobs (one; one per input of an embeddings line). */
    record Accepted(int line, String customId, String url, List<JobSpec> specs) {}

    /** A rejected line. */
    record Rejected(int line, String customId, String param, String code, String message) {}

    record Result(List<Accepted> accepted, List<Rejected> rejected, int total) {}

    static final int MAX_CUSTOM_ID = 512;

    private BatchLines() {}

    /**
     * @param endpoint the url every line must name (OpenAI batches), or null to allow any supported url
     */
    static Result read(byte[] content, String endpoint, ObjectMapper mapper, RequestRouter router) {
        List<Accepted> accepted = new ArrayList<>();
        List<Rejected> rejected = new ArrayList<>();
        Set<String> customIds = new HashSet<>();
        int total = 0;
        int number = 0;
        // Split on the byte '\n' (never part of a multi-byte UTF-8 sequence), so each line's bytes are checked on
        // their own: one line of bad UTF-8 is that line's error, not the file's.
        for (int start = 0; start <= content.length; ) {
            int end = start;
            while (end < content.length && content[end] != '\n') {
                end++;
            }
            byte[] line = lineBytes(content, start, end, number == 0);
            start = end + 1;
            number++;
            if (blank(line)) {
                continue;
            }
            total++;
            String customId = null;
            try {
                JsonNode node;
                try {
                    node = StrictJson.read(mapper, line, "line " + number);
                } catch (ApiException e) {
                    customId = customIdOf(mapper, line);
                    throw e;
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
                List<JobSpec> specs;
                try {
                    if (Boolean.TRUE.equals(body.bool("stream"))) {
                        throw ApiException.invalid("stream", "batch requests cannot stream; leave 'stream' out");
                    }
                    specs = router.specs(url, body);
                } catch (ApiException e) {
                    throw e.under("body");
                }
                accepted.add(new Accepted(number, cid, url, specs));
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

    /** The bytes of one line without its '\r', and without a byte-order mark some editors write on the first. */
    private static byte[] lineBytes(byte[] content, int start, int end, boolean first) {
        if (end > start && content[end - 1] == '\r') {
            end--;
        }
        if (first && end - start >= 3 && (content[start] & 0xFF) == 0xEF && (content[start + 1] & 0xFF) == 0xBB
                && (content[start + 2] & 0xFF) == 0xBF) {
            start += 3;
        }
        return Arrays.copyOfRange(content, start, end);
    }

    private static boolean blank(byte[] line) {
        for (byte b : line) {
            if (b != ' ' && b != '\t' && b != '\r' && b != '\f' && b != 0x0B) {
                return false;
            }
        }
        return true;
    }

    /** The custom_id of a line refused as a whole (bad UTF-8, a NUL elsewhere), if one can be read, for its error. */
    private static String customIdOf(ObjectMapper mapper, byte[] line) {
        try {
            JsonNode id = mapper.readTree(new String(line, StandardCharsets.UTF_8)).path("custom_id");
            return id.isTextual() && id.asText().indexOf('\0') < 0 && id.asText().indexOf('\uFFFD') < 0
                    ? id.asText() : null;
        } catch (JsonProcessingException | RuntimeException e) {
            return null;
        }
    }
}
