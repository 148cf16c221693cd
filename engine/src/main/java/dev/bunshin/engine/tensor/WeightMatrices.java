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
            GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0,
            GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1,
            GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K));

    /**
     * Wraps a 1- or 2-dimensional tensor (dims {cols, rows}) as a weight matrix: F32, F16, BF16, Q8_0 and Q4_0 over
     * its mapped bytes (no copy), the other block types over a heap copy repacked for vector loads.
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
            // Block types below copy their weights to the heap at load time, in a layout for vector loads.
            case Q4_1 -> new Q4_1Matrix(t);
            case Q5_0 -> new Q5_0Matrix(t);
            case Q5_1 -> new Q5_1Matrix(t);
            case Q2_K -> new Q2_KMatrix(t);
            case Q3_K -> new Q3_KMatrix(t);
            case Q4_K -> new Q4_KMatrix(t);
            case Q5_K -> new Q5_KMatrix(t);
            case Q6_K -> new Q6_KMatrix(t);
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
