package dev.bunshin.submitter.jobs;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The JSON a client sees of a job (GET /v1/jobs/{id}); field by field in docs/api.md. */
public final class JobView {

    private JobView() {}

    /** Full view, with the text so far. */
    public static Map<String, Object> of(JobService.Snapshot s) {
        Map<String, Object> m = summary(s.job());
        m.put("text", s.text());
        m.put("token_count", s.tokenCount());
        m.put("timings", timings(s.job(), s.tokenCount()));
        return m;
    }

    /** The view without text (lists). */
    static Map<String, Object> summary(Job j) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", j.id);
        m.put("object", "job");
        m.put("model", j.model);
        m.put("kind", j.kind);
        m.put("status", j.status);
        m.put("finish_reason", j.finishReason);
        m.put("error", j.error);
        m.put("token_count", j.tokenCount);
        m.put("prompt_token_count", j.promptTokens == null ? 0 : j.promptTokens.length);
        m.put("max_tokens", j.maxTokens);
        Map<String, Object> params = new LinkedHashMap<>();
        params.put("temperature", j.temperature);
        params.put("top_p", j.topP);
        params.put("top_k", j.topK);
        params.put("min_p", j.minP);
        params.put("repeat_penalty", j.repeatPenalty);
        params.put("presence_penalty", j.presencePenalty);
        params.put("frequency_penalty", j.frequencyPenalty);
        params.put("seed", j.seed);
        params.put("stop", j.stop == null ? List.of() : List.of(j.stop));
        m.put("params", params);
        if (j.batchId != null) {
            m.put("batch_id", j.batchId);
            m.put("custom_id", j.customId);
            m.put("batch_line", j.batchLine);
        }
        m.put("created_at", iso(j.createdAt));
        return m;
    }

    /**
     * Times from the row. time_to_first_token counts from submission (queue wait included); tokens_per_second
     * is the decode rate after the first token: (tokens - 1) / (end - first token), end = finish or now.
     */
    static Map<String, Object> timings(Job j, int tokens) {
        Map<String, Object> t = new LinkedHashMap<>();
        t.put("created_at", iso(j.createdAt));
        t.put("started_at", iso(j.startedAt));
        t.put("first_token_at", iso(j.firstTokenAt));
        t.put("finished_at", iso(j.finishedAt));
        t.put("queue_ms", millis(j.createdAt, j.startedAt));
        t.put("time_to_first_token_ms", millis(j.createdAt, j.firstTokenAt));
        t.put("total_ms", millis(j.createdAt, j.finishedAt));
        Instant end = j.finishedAt != null ? j.finishedAt : Instant.now();
        Double tps = null;
        if (j.firstTokenAt != null && tokens > 1 && end.isAfter(j.firstTokenAt)) {
            tps = (tokens - 1) * 1e9 / Duration.between(j.firstTokenAt, end).toNanos();
        }
        t.put("tokens_per_second", tps);
        return t;
    }

    static String iso(Instant i) {
        return i == null ? null : i.toString();
    }

    static Long millis(Instant from, Instant to) {
        return from == null || to == null ? null : Duration.between(from, to).toMillis();
    }
}
