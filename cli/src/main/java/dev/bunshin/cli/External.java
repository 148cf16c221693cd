package dev.bunshin.cli;

import java.io.PrintStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;

/**
 * Commands implemented in other modules ({@code up}, {@code demo} in the launcher), called by class name:
 * {@code public static int run(String[] args)}.
 */
final class External {
    private External() {}

    static int run(String command, String className, String[] args, PrintStream err) throws Exception {
        Method m;
        try {
            m = Class.forName(className).getMethod("run", String[].class);
        } catch (ClassNotFoundException | NoSuchMethodException e) {
            err.println("bunshin " + command + ": not available in this build (" + className
                    + ".run(String[]) is missing)");
            return 1;
        }
        try {
            return (int) m.invoke(null, (Object) args);
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof Exception ex) throw ex;
            if (e.getCause() instanceof Error er) throw er;
            throw e;
        }
    }
}
