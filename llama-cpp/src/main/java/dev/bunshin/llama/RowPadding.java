package dev.bunshin.llama;

import dev.bunshin.engine.LayerRange;
import dev.bunshin.engine.gguf.GgmlType;
import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.engine.gguf.GgufTensor;
import dev.bunshin.engine.model.TensorNames;

import java.util.Locale;
import java.util.Set;

/**
 * Rows added to a {@code llama_decode} so that llama.cpp's CPU kernels for repacked weights run all of its rows four
 * at a time.
 *
 * <p>On the CPU, llama.cpp repacks Q4_0, Q4_K and IQ4_NL matrices (with AVX2 or NEON) and multiplies them by a batch
 * four rows at a time ({@code gemm}); the one to three rows left over ({@code rows % 4}) go one by one through
 * {@code gemv}, and each such row streams the whole matrix from memory again. On a 10-layer Q4_0 stage on one core a
 * leftover row cost about twice a row inside the gemm, so 14 and 15 rows took longer than 16
 * (scripts/bench-row-padding.sh; docs/benchmarks.md, 2026-12-04 "Rows padded"). A stage's batch is whatever its poll
 * brought (11 to 15 rows at 32 jobs through 2 stages): leftovers were 15 % of a stage worker's CPU, against 3.5 % in a
 * single node's batches of 32.
 *
 * <p>When two or three rows are left over, rows are added up to the next multiple of 4: copies of the last row at
 * positions 0.. of a spare sequence (the context holds one sequence more than the stage admits), removed from the KV
 * cache after the decode; nobody reads their outputs. One leftover row stays as it is (three added rows would cost
 * more). Off on a GPU ({@code n_gpu_layers > 0}), for weights llama.cpp does not repack, and with
 * {@code -Dbunshin.llama.pad-rows=off} / {@code BUNSHIN_LLAMA_PAD_ROWS=off}.
 */
record RowPadding(boolean on) {

    static final RowPadding OFF = new RowPadding(false);

    /** llama.cpp's most sequences in one context ({@code LLAMA_MAX_SEQ}): the spare one must fit beside the stage's. */
    static final int LLAMA_MAX_SEQ = 256;

    /** Weight types llama.cpp's CPU backend repacks for its 4-row gemm (ggml-cpu {@code repack.cpp}). */
    static final Set<GgmlType> REPACKED = Set.of(GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.IQ4_NL);

    /**
     * Whether a stage of {@code range} of {@code file} holding {@code sequences} sequences pads: on the CPU, when its
     * first layer's {@code ffn_up} is a repacked type and a spare sequence fits, unless turned off.
     */
    static RowPadding of(GgufFile file, LayerRange range, int gpuLayers, int sequences) {
        LlamaRelease.Setting given = LlamaRelease.Setting.of("bunshin.llama.pad-rows", "BUNSHIN_LLAMA_PAD_ROWS");
        if (given != null) {
            switch (given.value().toLowerCase(Locale.ROOT)) {
                case "off", "false" -> {
                    return OFF;
                }
                case "on", "true" -> {
                    // as chosen below
                }
                default -> throw new IllegalArgumentException(given.source() + " must be on or off, got '" + given.value() + "'");
            }
        }
        if (gpuLayers > 0 || sequences >= LLAMA_MAX_SEQ) return OFF;
        GgufTensor up = file.tensorOrNull(TensorNames.ffnUp(range.start()));
        return new RowPadding(up != null && REPACKED.contains(up.type()));
    }

    /** The most rows {@link #extra} adds: cells the spare sequence needs. */
    static final int MAX_EXTRA = 2;

    /** Rows to add to a decode of {@code rows} rows that may hold {@code room} more. */
    int extra(int rows, int room) {
        int add = rows % 4 >= 2 ? 4 - rows % 4 : 0;
        return on && add <= room ? add : 0;
    }
}
