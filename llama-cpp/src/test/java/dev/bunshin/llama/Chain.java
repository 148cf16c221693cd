package dev.bunshin.llama;

import dev.bunshin.engine.StageBackend;
import dev.bunshin.engine.StageInput;
import dev.bunshin.engine.StageOutput;

import java.util.ArrayList;
import java.util.List;

/** Stages of any backend fed one to the next in this process, as the workers would; greedy generation over them. */
final class Chain implements AutoCloseable {
    final List<StageBackend> stages;

    Chain(List<StageBackend> stages) {
        this.stages = stages;
    }

    /** The last stage's outputs (logits) for a batch of token inputs. */
    List<StageOutput> forward(List<StageInput> batch) {
        List<StageOutput> out = stages.getFirst().forward(batch);
        for (int s = 1; s < stages.size(); s++) {
            List<StageInput> next = new ArrayList<>(out.size());
            for (StageOutput o : out) next.add(StageInput.ofActivations(o.seqId(), o.pos(), o.activations()));
            out = stages.get(s).forward(next);
        }
        return out;
    }

    float[] forward(long seq, int pos, int[] tokens) {
        return forward(List.of(StageInput.ofTokens(seq, pos, tokens))).getFirst().logits();
    }

    /** Greedy ids after the prompt (prefill in one call, then one token per call); frees the sequence. */
    int[] greedy(long seq, int[] prompt, int n) {
        int[] out = new int[n];
        float[] logits = forward(seq, 0, prompt);
        for (int i = 0; i < n; i++) {
            out[i] = argmax(logits);
            if (i + 1 < n) logits = forward(seq, prompt.length + i, new int[]{out[i]});
        }
        for (StageBackend s : stages) s.free(seq);
        return out;
    }

    static int argmax(float[] x) {
        int best = 0;
        for (int i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
        return best;
    }

    @Override
    public void close() {
        stages.forEach(StageBackend::close);
    }
}
