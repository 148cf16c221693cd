package dev.bunshin.worker;

import dev.bunshin.db.JobsTable;
import dev.bunshin.engine.EngineOptions;
import dev.bunshin.engine.Generator;
import dev.bunshin.engine.TestModels;
import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.engine.sample.Sampler;
import dev.bunshin.engine.sample.SamplingParams;
import dev.bunshin.engine.sample.grammar.Json;
import dev.bunshin.engine.sample.grammar.ResponseFormat;
import dev.bunshin.engine.sample.grammar.SchemaCheck;
import dev.bunshin.engine.sample.grammar.TokenConstraints;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The tail's constrained sampling with the real stories260K model: greedy with a schema gives a valid document. */
class TailJobStructuredTest {

    static final String SCHEMA = """
            {"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"},
             "mood":{"enum":["happy","sad","sleepy"]},"friends":{"type":"array","items":{"type":"string"},"maxItems":2},
             "pet":{"type":["string","null"]}},
             "required":["name","age","mood","friends","pet"],"additionalProperties":false}""";

    /** Generates with a fresh TailJob until it ends; returns its tokens, the last one's row holding the text. */
    private static List<JobsTable.Token> run(Generator gen, TokenConstraints constraints, String format,
                                             SamplingParams params, int maxTokens, int logprobs) {
        int[] prompt = gen.tokenizer().encode("Once upon a time, Lily", true, true);
        TailJob job = new TailJob(1, prompt, maxTokens, gen.contextLength(), new Sampler(params), Set.of(), List.of(),
                gen.tokenizer(), logprobs, format == null ? null : constraints.forJob(format, new int[0]));
        long seq = 1;
        float[] logits = gen.forward(seq, 0, prompt);
        List<JobsTable.Token> out = new ArrayList<>();
        try {
            while (true) {
                JobsTable.Token t = job.step(logits);
                out.add(t);
                if (t.ends()) return out;
                logits = gen.forward(seq, prompt.length + t.position(), new int[]{t.tokenId()});
            }
        } finally {
            gen.free(seq);
        }
    }

    @Test
    void greedyWithASchemaGivesAValidDocumentAndReplays() throws Exception {
        try (GgufFile f = GgufFile.open(TestModels.stories260K());
             Generator gen = Generator.load(f, 2, new EngineOptions(1, 512, 4))) {
            TokenConstraints constraints = new TokenConstraints(gen.tokenizer());
            String format = ResponseFormat.jsonSchema(Json.parse(SCHEMA)).toJson();
            List<JobsTable.Token> tokens = run(gen, constraints, format, SamplingParams.GREEDY, 400, -1);
            JobsTable.Token last = tokens.getLast();
            assertEquals("stop", last.finishReason(), "the document completes: " + last.finalText());
            assertNull(SchemaCheck.violation(Json.parse(SCHEMA), last.finalText()), last.finalText());
            System.out.println("stories260K, greedy, schema: " + last.finalText().strip());

            // A restarted tail rebuilds the constraint by replaying the stored tokens and ends at the same place.
            int[] prompt = gen.tokenizer().encode("Once upon a time, Lily", true, true);
            TailJob again = new TailJob(1, prompt, 400, gen.contextLength(), new Sampler(SamplingParams.GREEDY),
                    Set.of(), List.of(), gen.tokenizer(), -1, constraints.forJob(format, new int[0]));
            for (JobsTable.Token t : tokens.subList(0, tokens.size() - 1)) again.replay(t.tokenId());
            assertEquals(tokens.size() - 1, again.next);

            // Free text from the same prompt is not JSON: the constraint did the work.
            String free = run(gen, constraints, null, SamplingParams.GREEDY, 40, -1).getLast().finalText();
            assertTrue(!free.strip().startsWith("{"), free);
        }
    }

    @Test
    void jsonObjectSampledAndLogprobsComeFromTheMaskedDistribution() throws Exception {
        try (GgufFile f = GgufFile.open(TestModels.stories260K());
             Generator gen = Generator.load(f, 1, new EngineOptions(1, 512, 4))) {
            TokenConstraints constraints = new TokenConstraints(gen.tokenizer());
            String enumOnly = ResponseFormat.jsonSchema(Json.parse(
                    "{\"type\":\"object\",\"properties\":{\"mood\":{\"enum\":[\"happy\",\"sad\"]}},\"required\":[\"mood\"],\"additionalProperties\":false}")).toJson();
            for (long seed = 1; seed <= 5; seed++) {
                SamplingParams p = new SamplingParams(1f, 0, 1f, 0f, 1f, 64, 0f, 0f, seed);
                List<JobsTable.Token> tokens = run(gen, constraints, enumOnly, p, 200, 5);
                JobsTable.Token last = tokens.getLast();
                assertEquals("stop", last.finishReason(), last.finalText());
                assertNull(SchemaCheck.violation(Json.parse(enumOnly.substring(enumOnly.indexOf("\"schema\":") + 9,
                        enumOnly.length() - 1)), last.finalText()), last.finalText());
                for (JobsTable.Token t : tokens) {
                    // every alternative reported is a token the document allowed: a masked one has logprob FLOOR
                    double mass = 0;
                    for (float lp : t.logprobs().topLogprobs()) mass += Math.exp(lp);
                    assertTrue(mass <= 1.0001, "probabilities of the alternatives sum to " + mass);
                    assertTrue(t.logprobs().logprob() > -9999f, "the sampled token was allowed: " + t);
                }
            }
        }
    }
}
