package dev.bunshin.llama;

import java.util.Arrays;
import java.util.Locale;

/**
 * How libllama brings a model's weights into memory ({@code llama_model_params.load_mode}).
 *
 * <p>Stages read them into the process's own memory by default, not llama.cpp's CPU default of mapping the file: a
 * mapped file's pages stay page cache, which the kernel may unmap and drop whenever it reclaims — under memory
 * pressure, or proactively (DAMON's {@code pageout}, which some hosts run). On such a host the same decode of the same
 * file took 1× to 20× its time from one run to the next when mapped, and varied by under 20 % when read
 * (docs/benchmarks.md, 2026-12-04). A worker holds its layers for its whole life, so reading them once costs only
 * the load (a few hundred MB/s to GB/s) and memory the worker advertises anyway.
 *
 * <p>Chosen with {@code -Dbunshin.llama.load} or {@code BUNSHIN_LLAMA_LOAD}: {@code read} (the default) or
 * {@code mmap}.
 */
enum WeightLoading {
    /** {@code LLAMA_LOAD_MODE_NONE}: read into buffers of the process's own. */
    READ(0),
    /** {@code LLAMA_LOAD_MODE_MMAP}: map the file; weights are page cache. */
    MMAP(1);

    /** The {@code enum llama_load_mode} value. */
    final int llamaValue;

    WeightLoading(int llamaValue) {
        this.llamaValue = llamaValue;
    }

    /** The mode chosen by {@code -Dbunshin.llama.load} / {@code BUNSHIN_LLAMA_LOAD}, else {@link #READ}. */
    static WeightLoading chosen() {
        LlamaRelease.Setting given = LlamaRelease.Setting.of("bunshin.llama.load", "BUNSHIN_LLAMA_LOAD");
        return given == null ? READ : parse(given.value(), given.source());
    }

    static WeightLoading parse(String value, String source) {
        for (WeightLoading w : values()) {
            if (w.name().toLowerCase(Locale.ROOT).equals(value.toLowerCase(Locale.ROOT))) return w;
        }
        throw new IllegalArgumentException(source + " must be one of " + Arrays.stream(values())
                .map(w -> w.name().toLowerCase(Locale.ROOT)).toList() + ", got '" + value + "'");
    }
}
