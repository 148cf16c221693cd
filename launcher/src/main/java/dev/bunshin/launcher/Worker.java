package dev.bunshin.launcher;

import java.io.PrintStream;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Map;

/**
 * {@code ./bunshin worker --join ...}: one stage worker on this machine, for a stack that {@code ./bunshin up
 * --bind ...} runs on another. It is started exactly as {@code up} starts its own workers
 * ({@link LocalStack#launch}, {@link LocalStack#workerConfig}); the scheduler re-plans when it registers, and again
 * when it stops (its heartbeat ends). A worker that dies is restarted ({@link Supervisor}; the command gives up
 * when it keeps dying past {@code --max-restarts}); Ctrl-C or SIGTERM stops it, and if this command is killed the
 * worker dies with it. Its log is {@code <data-dir>/logs/<id>.log}. See {@link WorkerOptions#USAGE}.
 */
public final class Worker {

    private Worker() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs until interrupted; returns 1 if the worker could not start or keeps dying, 2 for bad usage. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        if (WorkerOptions.wantsHelp(args)) {
            out.print(WorkerOptions.USAGE);
            return 0;
        }
        WorkerOptions options;
        ModelChoice model;
        try {
            options = WorkerOptions.parse(args, System.getenv());
            Path dataDir = options.dataDir().toAbsolutePath().normalize();
            model = ModelChoice.resolve(options.model(), dataDir);
            if (options.modelId() != null) {
                model = new ModelChoice(model.path(), options.modelId(), model.synthetic());
            }
        } catch (IllegalArgumentException e) {
            err.println("bunshin worker: " + e.getMessage());
            return 2;
        }
        Path dataDir = options.dataDir().toAbsolutePath().normalize();
        Supervisor supervisor = new Supervisor(RestartPolicy.withLimit(options.maxRestarts()), out,
                dataDir.resolve("logs").resolve(options.id() + "-supervisor.log"));
        try {
            QuarkusApp app = start(options, model, out);
            // Restarted as it was first started: the same config (and port), without the up-front checks, which
            // would fail the restart of a worker whose database is away for a moment instead of letting it retry.
            ModelChoice served = model;
            supervisor.add(options.id(), app.process(), () -> launch(options, served).process());
        } catch (RuntimeException e) {
            err.println("bunshin worker: " + e.getMessage());
            return 1;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            out.println("Stopping worker " + options.id() + " ...");
            supervisor.close();
            out.println("Stopped.");
        }, "bunshin-worker-stop"));
        out.println("Worker " + options.id() + " is up: the scheduler re-plans the stages to include it.");
        out.println("Press Ctrl-C to stop.");
        while (true) {
            try {
                Thread.sleep(500);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                supervisor.close();
                return 1;
            }
            if (supervisor.closing()) {
                continue; // the shutdown hook is stopping it
            }
            String giveUp = supervisor.check();
            if (giveUp != null) {
                err.println("bunshin worker: stopping: " + giveUp);
                supervisor.close();
                return 1;
            }
        }
    }

    /** Checks Kafka and the database answer, then starts the worker and waits until it is ready. */
    static QuarkusApp start(WorkerOptions options, ModelChoice model, PrintStream out) {
        checkKafka(options.kafka());
        checkDatabase(options);
        Path log = options.dataDir().toAbsolutePath().normalize().resolve("logs").resolve(options.id() + ".log");
        int threads = options.threads() > 0 ? options.threads() : Runtime.getRuntime().availableProcessors();
        out.println("Starting stage worker " + options.id() + " (model " + model.id() + ", "
                + memoryGiB(options, model) + " GiB, " + threads + " threads) for Kafka " + options.kafka() + " and "
                + options.database());
        out.println("Log: " + log);
        return launch(options, model);
    }

    /** Starts the stage worker and waits until it is ready (stopping it if it is not). */
    private static QuarkusApp launch(WorkerOptions options, ModelChoice model) {
        Path dataDir = options.dataDir().toAbsolutePath().normalize();
        int memoryGiB = memoryGiB(options, model);
        int threads = options.threads() > 0 ? options.threads() : Runtime.getRuntime().availableProcessors();
        Map<String, String> common = LocalStack.commonConfig(options.kafka(), options.database(), options.dbUser(),
                options.dbPassword(), model);
        Path log = dataDir.resolve("logs").resolve(options.id() + ".log");
        Map<String, String> own = LocalStack.workerConfig(options.id(), memoryGiB, threads, options.backend());
        if (options.kafkaPassword() != null) {
            own.put("bunshin.kafka.password", options.kafkaPassword()); // in its environment, like every secret
        }
        QuarkusApp app = LocalStack.launch(LocalStack.projectHome(), "stage-worker", options.id(), memoryGiB + "g",
                common, own, dataDir, log);
        app.awaitReadyOrStop(LocalStack.APP_READY_TIMEOUT);
        return app;
    }

    private static int memoryGiB(WorkerOptions options, ModelChoice model) {
        return options.memoryGiB() > 0 ? options.memoryGiB() : LocalStack.workerMemoryGiB(model.sizeBytes(), 1);
    }

    private static void checkKafka(String bootstrap) {
        for (String server : bootstrap.split(",")) {
            int colon = server.lastIndexOf(':');
            String host = server.substring(0, colon);
            int port = Integer.parseInt(server.substring(colon + 1));
            if (Ports.isOpen(host, port)) {
                return;
            }
        }
        throw new IllegalStateException("cannot reach Kafka at " + bootstrap + " (--join): is ./bunshin up --bind ..."
                + " running there, and does its firewall let this machine in?");
    }

    private static void checkDatabase(WorkerOptions options) {
        try (Connection c = DriverManager.getConnection(options.database(), options.dbUser(), options.dbPassword())) {
            c.isValid(5);
        } catch (SQLException e) {
            if ("28P01".equals(e.getSQLState()) || "28000".equals(e.getSQLState())) {
                throw new IllegalStateException("the database at " + options.database() + " rejected user "
                        + options.dbUser() + " with this password (" + e.getSQLState() + "): take the password from"
                        + " the command ./bunshin up printed, or from its <data-dir>/" + KeptPassword.DATABASE_FILE);
            }
            throw new IllegalStateException("cannot reach the database at " + options.database() + " (--database): "
                    + e.getMessage());
        }
    }
}
