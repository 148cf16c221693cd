package dev.bunshin.e2e;

import dev.bunshin.db.StagePlan;
import dev.bunshin.engine.EngineOptions;
import dev.bunshin.engine.LayerRange;
import dev.bunshin.engine.StageBackend;
import dev.bunshin.engine.TestModels;
import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.engine.tokenizer.Tokenizer;
import dev.bunshin.llama.StageBackends;
import dev.bunshin.models.synthetic.SyntheticModel;
import dev.bunshin.models.synthetic.SyntheticMoeModel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Stage workers on the llama.cpp backend through the whole service (real Kafka, real PostgreSQL, the scheduler's
 * plan): a qwen3moe model cut into 3 llama.cpp stages gives llama.cpp's own whole-model greedy tokens, and a plan
 * that mixes a llama.cpp stage with a Java stage serves stories260K.
 */
class LlamaCppPipelineTest {

    private static final String[] PROMPTS = {"Once upon a time", "The little dog", "Tim and Sue went to the park and"};
    private static final int MAX_TOKENS = 24;

    @TempDir
    static Path dir;
    private static Infra infra;
    private static Jobs jobs;

    @BeforeAll
    static void start() throws Exception {
        infra = Infra.get();
        jobs = new Jobs(infra.db);
    }

    @Test
    void qwen3moeOnThreeLlamaCppStagesGivesTheWholeModelsTokens() throws Exception {
        Path model = SyntheticMoeModel.write(dir.resolve("qwen3moe-q8_0.gguf"),
                SyntheticMoeModel.tiny(SyntheticModel.Mix.Q8_0, 6));
        assertServesLikeTheWholeModel("qwen3moe-" + System.nanoTime() % 100000, model,
                List.of("llama.cpp", "llama.cpp", "llama.cpp"), "llama.cpp");
    }

    @Test
    void aPlanMixingLlamaCppAndJavaStagesServesStories() throws Exception {
        assertServesLikeTheWholeModel("stories-mixed-" + System.nanoTime() % 100000, TestModels.stories260K(),
                List.of("llama.cpp", "java"), "java");
    }

    /** Jobs through a pipeline of {@code backends} equal {@code reference} running the whole model in-process. */
    private static void assertServesLikeTheWholeModel(String modelId, Path model, List<String> backends,
                                                      String reference) throws Exception {
        try (GgufFile file = GgufFile.open(model);
             Pipeline p = new Pipeline(infra, modelId, model, backends, 4 << 20, 0, 32, Duration.ofMillis(50))) {
            Tokenizer tokenizer = Tokenizer.fromGguf(file);
            StagePlan plan = p.awaitPlan(backends.size(), Duration.ofSeconds(120));
            int nLayers = Reference.nLayers(file);
            assertEquals(nLayers, plan.stages().getLast().layerEnd());

            List<int[]> prompts = new ArrayList<>();
            List<Long> ids = new ArrayList<>();
            for (String prompt : PROMPTS) {
                int[] tokens = tokenizer.encode(prompt, true, false);
                prompts.add(tokens);
                ids.add(jobs.insert(modelId, prompt, tokens, MAX_TOKENS));
            }
            List<Jobs.Row> rows = jobs.awaitDone(ids, Duration.ofSeconds(180));
            try (StageBackend whole = StageBackends.load(reference, file, new LayerRange(0, nLayers),
                    new EngineOptions(1, 0, 2))) {
                for (int i = 0; i < rows.size(); i++) {
                    Jobs.Row row = rows.get(i);
                    Reference.Output want = Reference.greedy(whole, tokenizer, prompts.get(i), MAX_TOKENS);
                    whole.free(1);
                    assertEquals("completed", row.status(), row.toString());
                    assertEquals(want.tokens(), jobs.tokens(row.id()).stream().map(Jobs.Token::tokenId).toList(),
                            modelId + " job " + row.id() + " (" + PROMPTS[i] + ") on " + backends
                                    + " against " + reference + " running the whole model");
                }
            }
        }
    }
}
