package dev.bunshin.llama;

import dev.bunshin.engine.Generator;
import dev.bunshin.engine.StageBackend;
import dev.bunshin.engine.StageInput;
import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.engine.tokenizer.Tokenizer;

import java.io.IOException;
import java.util.List;

/** Stages of any backend fed one to the next in this process (a {@link Generator}); greedy generation over them. */
final class Chain implements AutoCloseable {
    final List<StageBackend> stages;
    private final Generator generator;

    Chain(GgufFile file, List<StageBackend> stages) throws IOException {
        this.stages = stages;
        this.generator = Generator.of(Tokenizer.fromGguf(file), stages);
    }

    /** The last stage's logits, F32 [nVocab], of each input of a batch of token inputs. */
    List<float[]> forward(List<StageInput> batch) {
        return generator.forwardBatch(batch);
    }

    float[] forward(long seq, int pos, int[] tokens) {
        return generator.forward(seq, pos, tokens);
    }

    /** Greedy ids after the prompt (prefill in one call, then one token per call); frees the sequence. */
    int[] greedy(long seq, int[] prompt, int n) {
        int[] out = new int[n];
        float[] logits = forward(seq, 0, prompt);
        for (int i = 0; i < n; i++) {
            out[i] = argmax(logits);
            if (i + 1 < n) logits = forward(seq, prompt.length + i, new int[]{out[i]});
        }
        generator.free(seq);
        return out;
    }

    static int argmax(float[] x) {
        int best = 0;
        for (int i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
        return best;
    }

    @Override
    public void close() {
        generator.close();
    }
}
