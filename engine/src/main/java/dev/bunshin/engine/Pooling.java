package dev.bunshin.engine;

import dev.bunshin.engine.gguf.GgufException;
import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.engine.gguf.GgufKeys;

/**
 * How an embedding is pooled from the final hidden states (after the output norm, llama.cpp's {@code t_embd}) of
 * every prompt position, as the model's {@code <arch>.pooling_type} says (llama.cpp's {@code llama_pooling_type}).
 *
 * <p>A prompt may run through the last stage in several chunks, so pooling is split in two: each chunk gives a
 * {@link #partial} of {@code [nEmbd]} values, and {@link EmbeddingPool} combines the partials of a whole prompt.
 */
public enum Pooling {
    /** The average over all positions (llama.cpp {@code LLAMA_POOLING_TYPE_MEAN}); a partial is the chunk's sum. */
    MEAN,
    /** The first position's state (BERT's [CLS]); a partial is that row if the chunk holds position 0, else null. */
    CLS,
    /** The last position's state; a partial is the chunk's last row. */
    LAST;

    /**
     * The model's pooling. A file without the key, or with {@code none} (0), pools by {@link #MEAN}: decoder models
     * such as Llama carry no pooling type, and mean is what llama.cpp pools them by when asked for a sequence
     * embedding ({@code --pooling mean}).
     *
     * @throws GgufException naming the value for {@code rank} (4: a reranker's score head, not an embedding) or an
     *                       unknown value
     */
    public static Pooling of(GgufFile file) throws GgufException {
        String arch = file.getString(GgufKeys.GENERAL_ARCHITECTURE, "");
        int type = file.getInt(GgufKeys.arch(arch, GgufKeys.POOLING_TYPE), 0);
        return switch (type) {
            case 0, 1 -> MEAN;
            case 2 -> CLS;
            case 3 -> LAST;
            default -> throw new GgufException("unsupported " + GgufKeys.arch(arch, GgufKeys.POOLING_TYPE) + " "
                    + type + " (4 = rank: a reranker, not an embedding model)");
        };
    }

    /**
     * The model's pooling for a last stage, or null if it has none we support (a reranker's {@code rank}): such a model
     * still generates; its embedding jobs fail at the tail, which gets no pooled part.
     */
    public static Pooling orNull(GgufFile file) {
        try {
            return of(file);
        } catch (GgufException e) {
            return null;
        }
    }

    /**
     * One chunk's part of the pooled state.
     *
     * @param normed F32 {@code [n, nEmbd]}: the chunk's final hidden states after the output norm
     * @param pos    sequence position of the chunk's first row
     * @return F32 {@code [nEmbd]}, or null when the chunk adds nothing ({@link #CLS} after position 0)
     */
    public float[] partial(float[] normed, int pos, int n, int nEmbd) {
        if (normed.length != n * nEmbd) {
            throw new IllegalArgumentException(normed.length + " values are not " + n + " rows of " + nEmbd);
        }
        return switch (this) {
            case MEAN -> {
                float[] sum = new float[nEmbd];
                for (int t = 0; t < n; t++) {
                    for (int i = 0; i < nEmbd; i++) sum[i] += normed[t * nEmbd + i];
                }
                yield sum;
            }
            case CLS -> pos == 0 ? java.util.Arrays.copyOf(normed, nEmbd) : null;
            case LAST -> java.util.Arrays.copyOfRange(normed, (n - 1) * nEmbd, n * nEmbd);
        };
    }
}
