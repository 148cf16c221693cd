package dev.bunshin.engine;

import java.util.Set;

/**
 * The checks every {@link StageBackend} makes on an input before running a batch, with the same messages on
 * every backend: the sequence once per batch, the right kind of input for the stage (tokens for the first,
 * activations for the others), token ids in the vocabulary, whole activation rows, positions continuing the
 * cached ones and inside the context.
 */
public final class StageInputCheck {
    private StageInputCheck() {}

    /**
     * Checks {@code in} for a stage running {@code range}; returns its number of positions.
     *
     * @param seen    sequences already in this batch (the input's is added)
     * @param cached  positions the stage holds for the input's sequence
     * @param context positions a sequence may hold
     * @throws IllegalArgumentException naming the sequence and the offending value
     */
    public static int check(StageInput in, LayerRange range, int nEmbd, int nVocab, int cached, int context,
                            Set<Long> seen) {
        long seq = in.seqId();
        boolean first = range.isFirst();
        if (!seen.add(seq)) {
            throw new IllegalArgumentException("sequence " + seq + " appears twice in one batch");
        }
        if (first && in.tokens() == null) {
            throw new IllegalArgumentException("sequence " + seq + ": stage " + range + " embeds tokens, got activations");
        }
        if (!first && in.activations() == null) {
            throw new IllegalArgumentException("sequence " + seq + ": stage " + range + " takes activations, got tokens");
        }
        int n;
        if (first) {
            n = in.tokens().length;
            for (int tok : in.tokens()) {
                if (tok < 0 || tok >= nVocab) {
                    throw new IllegalArgumentException("sequence " + seq + ": token " + tok + " outside the vocabulary of "
                            + nVocab);
                }
            }
        } else {
            if (in.activations().length % nEmbd != 0) {
                throw new IllegalArgumentException("sequence " + seq + ": " + in.activations().length
                        + " activations is not a multiple of nEmbd " + nEmbd);
            }
            n = in.activations().length / nEmbd;
        }
        if (n == 0) {
            throw new IllegalArgumentException("sequence " + seq + ": no tokens at pos " + in.pos());
        }
        if (in.pos() < 0 || in.pos() > cached) {
            throw new IllegalArgumentException("sequence " + seq + ": pos " + in.pos() + " does not continue the "
                    + cached + " cached positions");
        }
        if ((long) in.pos() + n > context) {
            throw new IllegalArgumentException("sequence " + seq + ": pos " + in.pos() + " + " + n
                    + " tokens exceeds the context length " + context);
        }
        return n;
    }
}
