package dev.bunshin.engine.model;

import dev.bunshin.engine.kv.KvCache;

/**
 * One sequence's rows in a stacked batch: rows {@code [row, row + n)} of the activations are positions
 * {@code [pos, pos + n)} of the sequence whose keys and values live in {@code cache}.
 */
public record SequenceSlice(KvCache cache, int pos, int row, int n) {
}
