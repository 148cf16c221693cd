package dev.bunshin.submitter.batches;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/** OpenAI's batch object, plus Bunshin's finer {@code counts}. Times are Unix seconds, as OpenAI's. */
final class BatchView {

    private BatchView() {}

    static Map<String, Object> of(Batch b, BatchService service, ObjectMapper mapper) {
        BatchService.Counts c = service.counts(b.id);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", b.id);
        m.put("object", "batch");
        m.put("endpoint", b.endpoint);
        if (Batch.FAILED.equals(b.status)) {
            Map<String, Object> errors = new LinkedHashMap<>();
            errors.put("object", "list");
            errors.put("data", service.firstErrors(b.id, 100));
            m.put("errors", errors);
        } else {
            m.put("errors", null);
        }
        m.put("input_file_id", b.inputFileId);
        m.put("completion_window", b.completionWindow);
        m.put("status", b.status);
        m.put("output_file_id", b.outputFileId);
        m.put("error_file_id", b.errorFileId);
        m.put("created_at", seconds(b.createdAt));
        m.put("in_progress_at", seconds(b.inProgressAt));
        m.put("expires_at", b.createdAt == null ? null : seconds(b.createdAt.plus(window(b.completionWindow))));
        m.put("finalizing_at", seconds(b.finalizingAt));
        m.put("completed_at", seconds(b.completedAt));
        m.put("failed_at", seconds(b.failedAt));
        m.put("expired_at", null);
        m.put("cancelling_at", seconds(b.cancellingAt));
        m.put("cancelled_at", seconds(b.cancelledAt));
        Map<String, Object> rc = new LinkedHashMap<>();
        rc.put("total", c.total());
        rc.put("completed", c.completed());
        rc.put("failed", c.failed() + c.invalid());
        m.put("request_counts", rc);
        Map<String, Object> counts = new LinkedHashMap<>();
        counts.put("total", c.total());
        counts.put("accepted", c.accepted());
        counts.put("invalid", c.invalid());
        counts.put("queued", c.queued());
        counts.put("running", c.running());
        counts.put("completed", c.completed());
        counts.put("failed", c.failed());
        counts.put("cancelled", c.cancelled());
        m.put("counts", counts);
        Object metadata = null;
        if (b.metadata != null) {
            try {
                metadata = mapper.readTree(b.metadata);
            } catch (Exception e) {
                metadata = b.metadata;
            }
        }
        m.put("metadata", metadata);
        return m;
    }

    static Long seconds(Instant i) {
        return i == null ? null : i.getEpochSecond();
    }

    static Duration window(String w) {
        try {
            if (w != null && w.endsWith("h")) {
                return Duration.ofHours(Long.parseLong(w.substring(0, w.length() - 1)));
            }
        } catch (NumberFormatException ignored) {
            // fall through to the default
        }
        return Duration.ofHours(24);
    }
}
