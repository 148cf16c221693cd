package dev.bunshin.protocol;

/**
 * How activations are written on the wire. F32 is exact (a split model gives the same logits as a whole one);
 * F16 and BF16 halve the bytes at the cost of rounding each activation once per stage boundary.
 */
public enum WirePrecision {
    F32(0, 4),
    F16(1, 2),
    BF16(2, 2);

    final int code;
    /** Bytes per value. */
    public final int bytes;

    WirePrecision(int code, int bytes) {
        this.code = code;
        this.bytes = bytes;
    }

    static WirePrecision ofCode(int code) {
        for (WirePrecision p : values()) {
            if (p.code == code) return p;
        }
        throw new ProtocolException("unknown wire precision code " + code);
    }

    /** Parses a configuration value such as {@code f32}, {@code F16} or {@code bf16}. */
    public static WirePrecision parse(String name) {
        try {
            return valueOf(name.trim().toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown wire precision '" + name + "' (f32, f16 or bf16)");
        }
    }
}
