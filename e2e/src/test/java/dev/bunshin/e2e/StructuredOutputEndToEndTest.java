package dev.bunshin.e2e;

import dev.bunshin.engine.TestModels;
import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.engine.sample.grammar.Json;
import dev.bunshin.engine.sample.grammar.ResponseFormat;
import dev.bunshin.engine.sample.grammar.SchemaCheck;
import dev.bunshin.engine.tokenizer.Tokenizer;
import dev.bunshin.worker.StageWorker;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * Structured output through the whole Kafka pipeline on stories260K (two stage workers, real broker and
 * PostgreSQL): a batch of jobs with one JSON schema — what {@code /v1/batches} lines with {@code response_format}
 * become — each must end with {@code stop} and a document the schema accepts. 100 jobs by default
 * ({@code -Dbunshin.e2e.structuredJobs=N} for another count); the 500-line batch runs through
 * {@code /v1/batches} and the official openai client in UpClientsIT.
 *
 * <p>The schema's document always completes within the token budget: its values are an enum, a bounded integer
 * (at most 15 digits), a boolean and a short array of enums, so the constraint leaves no way to run on.
 */
class StructuredOutputEndToEndTest {

    static final String SCHEMA = """
            {"type":"object","properties":{
              "mood":{"enum":["happy","sad","sleepy"]},
              "age":{"type":"integer","minimum":0,"maximum":9007199254740991},
              "brave":{"type":"boolean"},
              "pets":{"type":"array","items":{"enum":["dog","cat","bird"]},"maxItems":3}},
             "required":["mood","age","brave","pets"],"additionalProperties":false}""";
    static final int MAX_TOKENS = 160;

    @Test
    void aBatchWithAJsonSchemaYieldsOnlyValidDocuments() throws Exception {
        int n = Integer.getInteger("bunshin.e2e.structuredJobs", 100);
        Path model = TestModels.stories260K();
        Infra infra = Infra.get();
        Jobs jobs = new Jobs(infra.db);
        String format = ResponseFormat.jsonSchema(Json.parse(SCHEMA)).toJson();
        Object schema = Json.parse(SCHEMA);
        String modelId = "stories260K-structured-" + System.nanoTime() % 100000;
        try (GgufFile file = GgufFile.open(model);
             Pipeline p = new Pipeline(infra, modelId, model, 2, 1 << 20)) {
            Tokenizer tokenizer = Tokenizer.fromGguf(file);
            p.awaitPlan(2, Duration.ofSeconds(60));
            List<Long> ids = new ArrayList<>();
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                String prompt = "Story " + i + ": Lily was " + (i % 7 == 0 ? "sad" : "happy") + " and";
                ids.add(jobs.insert(modelId, prompt, tokenizer.encode(prompt, true, false), MAX_TOKENS, new String[0],
                        new int[0], null, format));
            }
            List<Jobs.Row> rows = jobs.awaitDone(ids, Duration.ofSeconds(600));
            double seconds = (System.nanoTime() - t0) / 1e9;
            int tokens = 0;
            for (Jobs.Row r : rows) {
                assertEquals("completed", r.status(), r.toString());
                assertEquals("stop", r.finishReason(), "the document completed: " + r);
                assertNull(SchemaCheck.violation(schema, r.text()), r.text());
                tokens += r.tokenCount();
            }
            System.out.printf("%d structured jobs, %d tokens in %.1f s (%.0f tokens/s); first: %s%n", n, tokens,
                    seconds, tokens / seconds, rows.getFirst().text().strip());
            for (StageWorker w : p.workers) {
                if (w.failure() != null) throw new AssertionError("worker " + w.id() + " stopped", w.failure());
            }
        }
    }
}
