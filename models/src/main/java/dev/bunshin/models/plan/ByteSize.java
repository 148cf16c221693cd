package dev.bunshin.models.plan;

import java.util.Locale;

/** Byte counts as people write them: {@code 8G}, {@code 512M}, {@code 1.5GiB} ↔ bytes (binary units). */
public final class ByteSize {
    private ByteSize() {}

    /**
     * Parses {@code 123}, {@code 64K}, {@code 512M}, {@code 8G}, {@code 1.5T} (also {@code KB}/{@code KiB}…;
     * all binary: K = 1024).
     *
     * @throws IllegalArgumentException quoting the text if it is not a size
     */
    public static long parse(String text) {
        String s = text.trim().toUpperCase(Locale.ROOT);
        if (s.endsWith("IB")) s = s.substring(0, s.length() - 2);
        else if (s.endsWith("B") && s.length() > 1 && Character.isLetter(s.charAt(s.length() - 2))) s = s.substring(0, s.length() - 1);
        else if (s.endsWith("B")) s = s.substring(0, s.length() - 1);
        long unit = 1;
        if (!s.isEmpty()) {
            switch (s.charAt(s.length() - 1)) {
                case 'K' -> unit = 1L << 10;
                case 'M' -> unit = 1L << 20;
                case 'G' -> unit = 1L << 30;
                case 'T' -> unit = 1L << 40;
                default -> unit = 1;
            }
            if (unit != 1) s = s.substring(0, s.length() - 1);
        }
        try {
            double v = Double.parseDouble(s.trim());
            if (!(v > 0) || Double.isInfinite(v) || v * unit >= Long.MAX_VALUE) {
                throw new IllegalArgumentException("not a positive size: \"" + text + "\"");
            }
            return (long) (v * unit);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a size: \"" + text + "\" (examples: 512M, 8G, 1.5G)");
        }
    }

    /** {@code 1.50 GiB}, {@code 12.0 MiB}, {@code 300 B}; {@code unbounded} for {@link Long#MAX_VALUE}. */
    public static String format(long bytes) {
        if (bytes == Long.MAX_VALUE) return "unbounded";
        if (bytes < 1024) return bytes + " B";
        String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB"};
        double v = bytes;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, v >= 100 ? "%.0f %s" : v >= 10 ? "%.1f %s" : "%.2f %s", v, units[u]);
    }
}
