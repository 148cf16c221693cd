package dev.bunshin.llama;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodType;
import java.util.Locale;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * llama.cpp's log ({@code ggml_log_callback}) routed to {@link System.Logger} {@code dev.bunshin.llama}: quiet by
 * default (warnings and errors only), {@code -Dbunshin.llama.log=info} or {@code debug} for more.
 */
final class LlamaLog {
    private LlamaLog() {}

    private static final System.Logger LOG = System.getLogger("dev.bunshin.llama");
    // enum ggml_log_level: NONE 0, DEBUG 1, INFO 2, WARN 3, ERROR 4, CONT 5 (continues the previous line)
    private static final int THRESHOLD = switch (System.getProperty("bunshin.llama.log", "warn").toLowerCase(Locale.ROOT)) {
        case "debug" -> 1;
        case "info" -> 2;
        case "error" -> 4;
        case "none", "off" -> 99;
        default -> 3;
    };
    private static int lastLevel = 2;
    private static final StringBuilder line = new StringBuilder();

    /** The upcall stub: {@code void (enum ggml_log_level level, const char * text, void * user_data)}. */
    static MemorySegment upcall() {
        return LlamaLibrary.upcall(LlamaLog.class, "log",
                MethodType.methodType(void.class, int.class, MemorySegment.class, MemorySegment.class),
                FunctionDescriptor.ofVoid(JAVA_INT, ADDRESS, ADDRESS));
    }

    @SuppressWarnings("unused") // called from llama.cpp
    static synchronized void log(int level, MemorySegment text, MemorySegment userData) {
        int effective = level == 5 ? lastLevel : level;
        lastLevel = effective;
        if (effective < THRESHOLD) return;
        line.append(text.reinterpret(Long.MAX_VALUE).getString(0));
        if (line.isEmpty() || line.charAt(line.length() - 1) != '\n') return; // llama.cpp logs a line in pieces
        String msg = line.toString().stripTrailing();
        line.setLength(0);
        System.Logger.Level l = switch (effective) {
            case 1 -> System.Logger.Level.DEBUG;
            case 2 -> System.Logger.Level.INFO;
            case 3 -> System.Logger.Level.WARNING;
            default -> System.Logger.Level.ERROR;
        };
        LOG.log(l.getSeverity() < System.Logger.Level.INFO.getSeverity() ? System.Logger.Level.INFO : l, "llama.cpp: " + msg);
    }
}
