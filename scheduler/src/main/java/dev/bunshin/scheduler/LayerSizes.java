package dev.bunshin.scheduler;

import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.engine.gguf.GgufTensor;

/**
 * Bytes of weights per layer, read from the GGUF tensor table (nothing is loaded).
 *
 * @param layers F32-or-quantized bytes of {@code blk.<il>.*} per layer {@code [nLayers]}
 * @param first  extra bytes on the first stage (token embedding)
 * @param last   extra bytes on the last stage (output norm and head; the embedding again when the head is tied)
 */
public record LayerSizes(long[] layers, long first, long last) {

    public int nLayers() {
        return layers.length;
    }

    /** Bytes a stage running {@code [start, end)} holds. */
    public long bytes(int start, int end) {
        long b = 0;
        for (int il = start; il < end; il++) b += layers[il];
        if (start == 0) b += first;
        if (end == layers.length) b += last;
        return b;
    }

    public static LayerSizes of(GgufFile file, int nLayers) {
        long[] layers = new long[nLayers];
        long first = 0, last = 0;
        for (GgufTensor t : file.tensorList()) {
            String n = t.name();
            if (n.startsWith("blk.")) {
                int dot = n.indexOf('.', 4);
                int il = Integer.parseInt(n.substring(4, dot));
                if (il < nLayers) layers[il] += t.byteSize();
            } else if (n.startsWith("token_embd")) {
                first += t.byteSize();
            } else if (n.startsWith("output")) {
                last += t.byteSize();
            }
        }
        if (file.tensorOrNull("output.weight") == null) {
            GgufTensor embd = file.tensorOrNull("token_embd.weight");
            if (embd != null) last += embd.byteSize(); // tied head: the last stage maps the embedding too
        }
        return new LayerSizes(layers, first, last);
    }
}
