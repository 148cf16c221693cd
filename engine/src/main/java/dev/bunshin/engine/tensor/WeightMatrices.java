package dev.bunshin.engine.tensor;

import dev.bunshin.engine.gguf.GgmlType;
import dev.bunshin.engine.gguf.GgufException;
import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.engine.gguf.GgufTensor;

import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;

/** Picks the kernel class for a GGUF tensor's type. */
public final class WeightMatrices {
    private WeightMatrices() {}

    /** The types {@link #of} accepts; keep in step with the switch below. */
    public static final Set<GgmlType> SUPPORTED = Collections.unmodifiableSet(EnumSet.of(
            GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0));

    /**
     * Wraps a 1- or 2-dimensional tensor (dims {cols, rows}) as a weight matrix over its mapped bytes (no copy).
     *
     * @throws GgufException naming the tensor and its type if the type has no kernel
     */
    public static WeightMatrix of(GgufTensor t) throws GgufException {
        if (t.dims().length > 2) {
            throw new GgufException("tensor " + t.name() + " has " + t.dims().length + " dimensions; a weight matrix has 1 or 2");
        }
        if (t.rows() > Integer.MAX_VALUE || t.cols() > Integer.MAX_VALUE) {
            throw new GgufException("tensor " + t.name() + " is too large: " + t.rows() + " x " + t.cols());
        }
        return switch (t.type()) {
            case F32 -> new F32Matrix(t);
            case F16 -> new F16Matrix(t);
            case BF16 -> new BF16Matrix(t);
            case Q8_0 -> new Q8_0Matrix(t);
            case Q4_0 -> new Q4_0Matrix(t);
            default -> throw new GgufException("tensor " + t.name() + " has type " + t.type()
                    + ", which the engine cannot compute with (supported: " + supportedNames() + ")");
        };
    }

    /** As {@link #of(GgufTensor)}, with the file's path in any error message. */
    public static WeightMatrix of(GgufFile file, GgufTensor t) throws GgufException {
        try {
            return of(t);
        } catch (GgufException e) {
            throw new GgufException(file.path() + ": " + e.getMessage());
        }
    }

    public static String supportedNames() {
        StringBuilder sb = new StringBuilder();
        for (GgmlType t : SUPPORTED) {
            sb.append(sb.isEmpty() ? "" : ", ").append(t.name());
        }
        return sb.toString();
    }
}
