package dev.bunshin.worker;

import dev.bunshin.engine.LayerRange;
import dev.bunshin.engine.StageBackend;
import dev.bunshin.engine.StageInput;
import dev.bunshin.engine.StageOutput;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A middle stage that adds 1 to every activation and keeps the positions per sequence as a KV cache would; it
 * refuses (IllegalArgumentException naming the sequence) positions that do not continue a sequence, positions
 * beyond its context, and the sequences in {@link #refuse}.
 */
final class FakeBackend implements StageBackend {

    static final int N_EMBD = 4;

    final Set<Long> refuse = new HashSet<>();
    /** Every call, as "seq@pos+n" per input. */
    final List<List<String>> calls = new ArrayList<>();
    final Map<Long, Integer> cached = new HashMap<>();
    final Set<Long> freed = new HashSet<>();
    private final int contextLength;
    /** What {@link #sequenceCapacity()} says (a KV pool sized by a budget). */
    int capacity = Integer.MAX_VALUE;

    @Override
    public int sequenceCapacity() {
        return capacity;
    }

    FakeBackend(int contextLength) {
        this.contextLength = contextLength;
    }

    @Override
    public List<StageOutput> forward(List<StageInput> batch) {
        for (StageInput in : batch) {
            if (refuse.contains(in.seqId())) throw new IllegalArgumentException("sequence " + in.seqId() + " refused");
            if (in.pos() + in.nTokens(N_EMBD) > contextLength) {
                throw new IllegalArgumentException("sequence " + in.seqId() + ": position " + in.pos() + " + "
                        + in.nTokens(N_EMBD) + " exceeds the context length " + contextLength);
            }
        }
        List<String> call = new ArrayList<>();
        List<StageOutput> out = new ArrayList<>();
        for (StageInput in : batch) {
            call.add(in.seqId() + "@" + in.pos() + "+" + in.nTokens(N_EMBD));
            cached.put(in.seqId(), in.pos() + in.nTokens(N_EMBD));
            float[] a = new float[in.nTokens(N_EMBD) * N_EMBD]; // F32 [nTokens, nEmbd]
            if (in.activations() != null) for (int i = 0; i < a.length; i++) a[i] = in.activations()[i] + 1;
            out.add(new StageOutput(in.seqId(), in.pos(), in.nTokens(N_EMBD), a, null));
        }
        calls.add(call);
        return out;
    }

    @Override public String backend() { return "fake"; }
    @Override public String describe() { return "fake middle stage"; }
    @Override public LayerRange range() { return new LayerRange(1, 2); }
    @Override public int nLayers() { return 3; }
    @Override public int nEmbd() { return N_EMBD; }
    @Override public int nVocab() { return 16; }
    @Override public int contextLength() { return contextLength; }
    @Override public void free(long seqId) { cached.remove(seqId); freed.add(seqId); }
    @Override public int sequenceCount() { return cached.size(); }
    @Override public int cachedLength(long seqId) { return cached.getOrDefault(seqId, 0); }
    @Override public long kvBytes() { return 0; }
    @Override public void close() { }
}
