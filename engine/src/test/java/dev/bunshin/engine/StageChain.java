package dev.bunshin.engine;

import dev.bunshin.engine.model.Architecture;
import dev.bunshin.engine.gguf.GgufFile;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/** A model split over several {@link StageRunner}s in one process, fed stage to stage as the workers would. */
public final class StageChain implements AutoCloseable {
    final List<StageRunner> stages = new ArrayList<>();

    public StageChain(GgufFile file, int k, EngineOptions options) throws IOException {
        int nLayers = Architecture.readConfig(file).nLayers();
        for (LayerRange r : LayerRange.split(nLayers, k)) {
            stages.add(StageRunner.load(file, r, options));
        }
    }

    /** Runs a batch of token inputs through every stage; returns the last stage's outputs (logits). */
    public List<StageOutput> forward(List<StageInput> batch) {
        List<StageOutput> out = stages.get(0).forward(batch);
        for (int s = 1; s < stages.size(); s++) {
            List<StageInput> next = new ArrayList<>(out.size());
            for (StageOutput o : out) next.add(StageInput.ofActivations(o.seqId(), o.pos(), o.activations()));
            out = stages.get(s).forward(next);
        }
        return out;
    }

    public float[] forward(long seq, int pos, int[] tokens) {
        return forward(List.of(StageInput.ofTokens(seq, pos, tokens))).get(0).logits();
    }

    public void free(long seq) {
        for (StageRunner r : stages) r.free(seq);
    }

    public static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
        return best;
    }

    /** Greedy generation: prefill the prompt in one call, then one token per call; stops after eos. */
    public List<Integer> greedy(long seq, int[] prompt, int nPredict, int eos) {
        List<Integer> out = new ArrayList<>();
        float[] logits = forward(seq, 0, prompt);
        int pos = prompt.length;
        for (int i = 0; i < nPredict; i++) {
            int tok = argmax(logits);
            out.add(tok);
            if (tok == eos || i == nPredict - 1) break;
            logits = forward(seq, pos++, new int[]{tok});
        }
        return out;
    }

    @Override
    public void close() {
        for (StageRunner r : stages) r.close();
    }
}
