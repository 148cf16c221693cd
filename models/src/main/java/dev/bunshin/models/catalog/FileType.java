package dev.bunshin.models.catalog;

/**
 * Names of llama.cpp's {@code llama_ftype} values, stored as {@code general.file_type}: the quantization recipe a
 * file was made with (e.g. Q4_K_M mixes Q4_K and Q6_K tensors).
 */
final class FileType {
    private FileType() {}

    // Index = llama_ftype value (llama.h); null where the value is unused or retired.
    private static final String[] NAMES = {
            "F32", "F16", "Q4_0", "Q4_1", "Q4_1_SOME_F16", null, null, "Q8_0", "Q5_0", "Q5_1",
            "Q2_K", "Q3_K_S", "Q3_K_M", "Q3_K_L", "Q4_K_S", "Q4_K_M", "Q5_K_S", "Q5_K_M", "Q6_K", "IQ2_XXS",
            "IQ2_XS", "Q2_K_S", "IQ3_XS", "IQ3_XXS", "IQ1_S", "IQ4_NL", "IQ3_S", "IQ3_M", "IQ2_S", "IQ2_M",
            "IQ4_XS", "IQ1_M", "BF16", null, null, null, "TQ1_0", "TQ2_0", "MXFP4_MOE",
    };

    /** The name of a {@code general.file_type} value, or null if unknown. */
    static String name(int fileType) {
        return fileType >= 0 && fileType < NAMES.length ? NAMES[fileType] : null;
    }
}
