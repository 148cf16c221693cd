package dev.bunshin.launcher;

import java.io.PrintStream;

/**
 * {@code ./bunshin up}: runs the whole system on this machine until Ctrl-C. See {@link UpOptions#USAGE}.
 *
 * <p>Kafka and PostgreSQL keep their data in the data directory, so jobs survive a restart. Every child's output
 * goes to {@code <data-dir>/logs/<name>.log}. A child that dies is restarted ({@link Supervisor}); {@code up} stops
 * only when one keeps dying past the restart limit, or on Ctrl-C (or SIGTERM), which stops everything in reverse
 * order. If the launcher itself is killed, its children die with it (see {@link ChildProcess}).
 */
public final class Up {

    private Up() {
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs until interrupted; returns the exit code: 0 never in practice, 1 if a part failed, 2 for bad usage. */
    public static int run(String[] args) {
        return run(args, System.out, System.err);
    }

    /** {@link #run(String[])} writing to {@code out} and {@code err}. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        if (UpOptions.wantsHelp(args)) {
            out.print(UpOptions.USAGE);
            return 0;
        }
        UpOptions options;
        try {
            options = UpOptions.parse(args);
            options.binding(); // a --bind that is not this machine's is a usage error, before anything starts
        } catch (IllegalArgumentException e) {
            err.println("bunshin up: " + e.getMessage());
            return 2;
        }
        LocalStack stack;
        try {
            stack = LocalStack.start(options, out);
        } catch (RuntimeException e) {
            err.println("bunshin up: " + e.getMessage());
            return 1;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            out.println("Stopping Bunshin ...");
            stack.close();
            out.println("Stopped.");
        }, "bunshin-up-stop"));
        out.println("Bunshin is up: " + stack.apiUrl());
        out.println("Dashboard: " + stack.apiUrl() + "/ui/   (in a terminal: ./bunshin status --url " + stack.apiUrl() + ")");
        out.println("Model id: " + stack.modelId() + (stack.syntheticModel() ? "  (RANDOM WEIGHTS: its text is noise)" : ""));
        out.println("Logs: " + stack.logs() + "/*.log");
        out.println("Metrics (Prometheus): " + String.join(", ", stack.metricsUrls().entrySet().stream()
                .map(e -> e.getKey() + " " + e.getValue()).toList()));
        Binding binding = stack.binding();
        if (binding.shared()) {
            out.println("API for other machines: http://" + Binding.hostPort(binding.advertise(),
                    java.net.URI.create(stack.apiUrl()).getPort()));
            java.nio.file.Path kept = stack.dataDir().resolve(KeptPassword.DATABASE_FILE);
            out.println("Another machine joins as a stage worker with this one line (run in a Bunshin checkout there"
                    + (java.nio.file.Files.exists(kept) ? "; the password is kept in " + kept + " and printed only here"
                    : "") + "):");
        } else {
            out.println("One more stage worker on this machine (to let other machines join, start with --bind"
                    + " 0.0.0.0 or a LAN IP):");
        }
        out.println("  " + stack.joinCommand());
        out.println("Press Ctrl-C to stop.");
        return watch(stack, err);
    }

    /**
     * Blocks while everything runs, restarting what dies; if a child keeps dying past the restart limit, says
     * which and why, stops the rest and returns 1.
     */
    static int watch(LocalStack stack, PrintStream err) {
        while (true) {
            try {
                Thread.sleep(500);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                stack.close();
                return 1;
            }
            if (stack.closing()) {
                continue; // the shutdown hook is stopping everything; the JVM exits when it is done
            }
            String giveUp = stack.supervise();
            if (giveUp != null) {
                err.println("bunshin up: stopping everything: " + giveUp);
                stack.close();
                return 1;
            }
        }
    }
}
