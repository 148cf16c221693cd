package dev.bunshin.e2e;

import dev.bunshin.engine.EngineOptions;
import dev.bunshin.engine.LayerRange;
import dev.bunshin.engine.StageInput;
import dev.bunshin.engine.StageBackend;
import dev.bunshin.engine.StageRunner;
import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.engine.gguf.GgufKeys;
import dev.bunshin.engine.tokenizer.TokenDecoder;
import dev.bunshin.engine.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.List;

/** The engine's in-process greedy output: the whole model in one StageRunner, no Kafka, no database. */
final class Reference {

    /** @param logits per generated token, the logits it was chosen from // [n][nVocab] */
    record Output(List<Integer> tokens, String text, String finishReason, List<float[]> logits) {
    }

    private Reference() {}

    static int nLayers(GgufFile f) throws Exception {
        return f.getInt(GgufKeys.arch(f.getString(GgufKeys.GENERAL_ARCHITECTURE), GgufKeys.BLOCK_COUNT));
    }

    static Output greedy(GgufFile f, Tokenizer tok, int[] prompt, int maxTokens) throws Exception {
        try (StageRunner r = StageRunner.load(f, new LayerRange(0, nLayers(f)), new EngineOptions(1, 0, 2))) {
            return greedy(r, tok, prompt, maxTokens);
        }
    }

    /** As {@link #greedy(GgufFile, Tokenizer, int[], int)}, on a backend that runs the whole model. */
    static Output greedy(StageBackend r, Tokenizer tok, int[] prompt, int maxTokens) {
        {
            float[] logits = r.forward(List.of(StageInput.ofTokens(1, 0, prompt))).getFirst().logits();
            int pos = prompt.length;
            List<Integer> ids = new ArrayList<>();
            List<float[]> seen = new ArrayList<>();
            TokenDecoder decoder = tok.newDecoder();
            StringBuilder text = new StringBuilder();
            String finish = "length";
            for (int g = 0; g < maxTokens; g++) {
                int t = argmax(logits);
                ids.add(t);
                seen.add(logits);
                if (tok.isEndOfGeneration(t)) {
                    finish = "stop";
                    break;
                }
                text.append(decoder.push(t));
                if (g == maxTokens - 1) break;
                logits = r.forward(List.of(StageInput.ofTokens(1, pos++, new int[]{t}))).getFirst().logits();
            }
            text.append(decoder.flush());
            return new Output(ids, text.toString(), finish, seen);
        }
    }

    /** First index of the largest value (greedy; ties to the lowest id). */
    static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }
}
