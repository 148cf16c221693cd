package dev.bunshin.engine.model;

import dev.bunshin.engine.ModelConfig;
import dev.bunshin.engine.gguf.GgufException;
import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.engine.gguf.GgufKeys;

import java.util.List;
import java.util.stream.Collectors;

/**
 * What differs between the supported model families. All of them are the same pre-norm decoder (RMS norm,
 * GQA attention with RoPE, SwiGLU feed-forward); an architecture picks the RoPE style, whether heads are
 * normalised, and reads its keys. Adding one is one small class plus a line in {@link #ALL}.
 */
public interface Architecture {

    /** {@code general.architecture} value. */
    String name();

    /** Whether RoPE rotates halves (NeoX) rather than adjacent pairs. */
    boolean ropeNeox();

    /** Whether each query and key head has its own RMS norm before RoPE. */
    boolean qkNorm();

    List<Architecture> ALL = List.of(new LlamaArchitecture(), new Qwen2Architecture(), new Qwen3Architecture());

    /** The architecture of a file; throws naming it and the supported list if it is not supported. */
    static Architecture of(GgufFile file) throws GgufException {
        String name = file.getString(GgufKeys.GENERAL_ARCHITECTURE);
        for (Architecture a : ALL) {
            if (a.name().equals(name)) {
                return a;
            }
        }
        throw new GgufException(file.path() + ": architecture " + name + " is not supported (supported: "
                + ALL.stream().map(Architecture::name).collect(Collectors.joining(", ")) + ")");
    }

    /**
     * Reads the hyperparameters of a file of a supported architecture.
     *
     * @throws GgufException naming the file and the architecture if it is not supported, or a missing or bad key
     */
    static ModelConfig readConfig(GgufFile file) throws GgufException {
        return of(file).config(file);
    }

    /** Reads the hyperparameters; the shared keys are read by {@link HParams}. */
    default ModelConfig config(GgufFile file) throws GgufException {
        return HParams.read(file, this);
    }
}
