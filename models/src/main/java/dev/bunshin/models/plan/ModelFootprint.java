package dev.bunshin.models.plan;

import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.engine.gguf.GgufTensor;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The planner's view of a model file: tensor bytes per layer, and what only the first and the last stage hold.
 *
 * <p>{@code blk.<il>.*} tensors belong to layer {@code il}; {@code output_norm.*} and {@code output.*} to the last
 * stage; {@code token_embd.*} and any other tensor to the first. A model without {@code output.weight} ties its
 * head to the token embedding, so the last stage holds the embedding too.
 *
 * @param layerBytes tensor bytes of each layer [nLayers]
 * @param firstExtra bytes held only by the stage that embeds tokens
 * @param lastExtra  bytes held only by the stage that produces logits
 */
public record ModelFootprint(List<Long> layerBytes, long firstExtra, long lastExtra) {

    public ModelFootprint {
        layerBytes = List.copyOf(layerBytes);
    }

    /** Groups the tensors of {@code file}, a model of {@code nLayers} blocks. */
    public static ModelFootprint of(GgufFile file, int nLayers) {
        long[] layers = new long[nLayers];
        long first = 0;
        long last = 0;
        long embd = 0;
        boolean hasOutput = false;
        for (GgufTensor t : file.tensors().values()) {
            String name = t.name();
            long bytes = t.byteSize();
            int layer = layerOf(name);
            if (layer >= 0) {
                if (layer >= nLayers) {
                    throw new IllegalArgumentException(file.path() + ": tensor " + name + " is beyond the model's "
                            + nLayers + " layers");
                }
                layers[layer] += bytes;
            } else if (name.startsWith("output_norm.") || name.startsWith("output.")) {
                last += bytes;
                hasOutput |= name.equals("output.weight");
            } else {
                if (name.equals("token_embd.weight")) embd = bytes;
                first += bytes;
            }
        }
        if (!hasOutput) {
            last += embd; // tied embeddings: the head reuses token_embd
        }
        List<Long> list = new ArrayList<>(nLayers);
        for (long b : layers) list.add(b);
        return new ModelFootprint(Collections.unmodifiableList(list), first, last);
    }

    /**
     * KV cache bytes per layer: keys and values (2) × context × nHeadKv × headDim × 4 bytes (an F32 cache, which is
     * what the engine keeps) × sequences.
     */
    public static long kvBytesPerLayer(int context, int nHeadKv, int headDim, int sequences) {
        return Math.multiplyExact(Math.multiplyExact(2L * context * nHeadKv, (long) headDim), 4L * sequences);
    }

    /** {@code blk.12.attn_q.weight} → 12; -1 for tensors outside the blocks. */
    static int layerOf(String name) {
        if (!name.startsWith("blk.")) return -1;
        int dot = name.indexOf('.', 4);
        if (dot < 0) return -1;
        try {
            return Integer.parseInt(name, 4, dot, 10);
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
