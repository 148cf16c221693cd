package dev.bunshin.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Rounds of jobs submitted at once through the REST API of a running service, timed by the server's own
 * timestamps (created, first token, finished): what {@code bench pipeline} and {@code bench cluster} measure.
 * {@code label} starts each line it logs.
 */
record ServiceRounds(String api, int nTokens, String label) {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    /**
     * One round's result.
     *
     * @param seconds      first job's creation to the last one's end
     * @param decodeRates  each job's tokens/s after its first token (the server's {@code tokens_per_second})
     * @param endToEnd     each job's tokens / (end - creation)
     * @param ttftMs       each job's creation to first token, in ms
     * @param ids          the jobs' ids
     */
    record Round(int jobs, long tokens, double seconds, List<Double> decodeRates, List<Double> endToEnd, List<Double> ttftMs,
                 List<Long> ids) {
        double aggregate() {
            return tokens / seconds;
        }
    }

    /** Submits {@code jobs} jobs with distinct prompts, waits for all, reads their timings. */
    Round round(int jobs, PrintStream err) throws IOException, InterruptedException {
        List<Long> ids = new ArrayList<>();
        for (int j = 0; j < jobs; j++) {
            // Distinct prompts: no two jobs are the same sequence.
            String body = "{\"prompt\": " + JSON.writeValueAsString(PipelineBench.PROMPT + " " + j) + ", \"max_tokens\": "
                    + nTokens + ", \"temperature\": 0}";
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(api + "/v1/jobs"))
                    .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 202) {
                throw new IOException("POST /v1/jobs: HTTP " + r.statusCode() + ": " + r.body());
            }
            ids.add(JSON.readTree(r.body()).get("id").asLong());
        }
        Instant first = null;
        Instant last = null;
        long tokens = 0;
        List<Double> decode = new ArrayList<>();
        List<Double> endToEnd = new ArrayList<>();
        List<Double> ttft = new ArrayList<>();
        for (long id : ids) {
            JsonNode job = await(id);
            if (!"completed".equals(job.path("status").asText())) {
                throw new IOException("job " + id + " ended " + job.path("status").asText() + ": " + job.path("error").asText());
            }
            JsonNode t = job.get("timings");
            Instant created = Instant.parse(t.get("created_at").asText());
            Instant finished = Instant.parse(t.get("finished_at").asText());
            first = first == null || created.isBefore(first) ? created : first;
            last = last == null || finished.isAfter(last) ? finished : last;
            long n = job.get("token_count").asLong();
            tokens += n;
            decode.add(t.get("tokens_per_second").asDouble());
            endToEnd.add(n * 1e9 / Duration.between(created, finished).toNanos());
            ttft.add(t.get("time_to_first_token_ms").asDouble());
        }
        double seconds = Duration.between(first, last).toNanos() / 1e9;
        Round r = new Round(jobs, tokens, seconds, decode, endToEnd, ttft, List.copyOf(ids));
        err.printf(Locale.ROOT, "%s: %d jobs, %d tokens in %.2f s: %.1f tok/s, %.1f tok/s per job after the first token "
                + "(median), first token after %.0f ms (median)%n", label, jobs, tokens, seconds, r.aggregate(),
                BenchCommand.median(decode), BenchCommand.median(ttft));
        return r;
    }

    private JsonNode await(long id) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
        while (System.nanoTime() < deadline) {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(api + "/v1/jobs/" + id)).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            JsonNode job = JSON.readTree(r.body());
            String status = job.path("status").asText();
            if (!status.equals("queued") && !status.equals("running")) {
                return job;
            }
            // The timings are the server's own: polling slower costs no accuracy, only less CPU taken from the stack.
            Thread.sleep(250);
        }
        throw new IOException("job " + id + " did not end within 10 minutes");
    }
}
