package dev.bunshin.launcher;

import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Everything {@code ./bunshin up} runs on one machine: Kafka and PostgreSQL (unless given), the scheduler, the
 * submitter and N stage workers, each a child process with its log in {@code <data-dir>/logs/<name>.log}, each
 * under a {@link Supervisor}: {@link #supervise()} restarts one that died (Kafka and PostgreSQL on the same data
 * directory and port). {@link #close()} stops them in reverse order of start.
 */
public final class LocalStack implements AutoCloseable {

    static final Duration APP_READY_TIMEOUT = Duration.ofSeconds(180);
    static final int DEFAULT_SCHEDULER_PORT = 8081;
    /** The ports the embedded Kafka and PostgreSQL prefer when other machines use them: stable across restarts. */
    static final int DEFAULT_KAFKA_PORT = 9092;
    static final int DEFAULT_DB_PORT = 5432;

    private final Path dataDir;
    private final Path logs;
    private ModelChoice model;
    private String apiUrl;
    private Binding binding;
    private String bootstrapServers;
    private String jdbcUrl;
    private String remoteJdbcUrl;
    /** Kafka as other machines reach it (the shared listener) and its login, or null: none is needed. */
    private String remoteBootstrapServers;
    private String kafkaPassword;
    private String joinCommand;
    private NodePlacement placement = NodePlacement.SAME_HOST;
    private final Supervisor supervisor;
    private DataDirLock lock;
    /** Each app's Prometheus endpoint, by name, in order of start. */
    private final Map<String, String> metricsUrls = new LinkedHashMap<>();

    private LocalStack(Path dataDir, RestartPolicy policy, PrintStream out) {
        this.dataDir = dataDir;
        this.logs = dataDir.resolve("logs");
        this.supervisor = new Supervisor(policy, out, logs.resolve("supervisor.log"));
    }

    /**
     * Starts the whole system and waits until every app is ready. On failure, stops what it started and throws
     * (the message names the part that failed and shows the tail of its log).
     */
    public static LocalStack start(UpOptions options, PrintStream out) {
        return start(options, out, NodePlacement.SAME_HOST);
    }

    /** As {@link #start(UpOptions, PrintStream)}, each process placed by {@code placement} (pinned, namespaced). */
    public static LocalStack start(UpOptions options, PrintStream out, NodePlacement placement) {
        Objects.requireNonNull(options, "options == null");
        Path dataDir = options.dataDir().toAbsolutePath().normalize();
        LocalStack stack = new LocalStack(dataDir, RestartPolicy.withLimit(options.maxRestarts()), out);
        stack.placement = Objects.requireNonNull(placement, "placement == null");
        try {
            stack.startAll(options, out);
            return stack;
        } catch (RuntimeException | Error e) {
            stack.close();
            throw e;
        }
    }

    /** {@code http://127.0.0.1:<port>} (or the --bind address): the submitter, where clients send jobs. */
    public String apiUrl() {
        return apiUrl;
    }

    /** Where the servers listen and the host other machines use. */
    public Binding binding() {
        return binding;
    }

    /**
     * Kafka's {@code bootstrap.servers} as this machine's apps get it: the advertised host, or with {@code --bind} the
     * broker's loopback listener (other machines log in on the advertised one: see {@link #joinCommand()}).
     */
    public String bootstrapServers() {
        return bootstrapServers;
    }

    /** The database as this machine reaches it. */
    public String jdbcUrl() {
        return jdbcUrl;
    }

    /** The database as other machines reach it (the advertised host). */
    public String remoteJdbcUrl() {
        return remoteJdbcUrl;
    }

    /**
     * The one line that starts a stage worker on another machine (or this one) joining this stack; it holds the
     * database password in a {@code BUNSHIN_DB_PASSWORD=...} prefix: print it on the operator's terminal only,
     * never to a log.
     */
    public String joinCommand() {
        return joinCommand;
    }

    /** The data directory (absolute). */
    public Path dataDir() {
        return dataDir;
    }

    public Path logs() {
        return logs;
    }

    /** The id under which the served model is known to the API. */
    public String modelId() {
        return model.id();
    }

    /** Whether the model is a generated one with random weights (its text is noise). */
    public boolean syntheticModel() {
        return model.synthetic();
    }

    /**
     * One round of supervision: restarts what died (see {@link Supervisor#check()}; it may block while a child
     * comes back). Returns null, or why the stack cannot go on: a child that keeps dying past the restart limit.
     */
    public String supervise() {
        return supervisor.check();
    }

    /**
     * Where each app serves its metrics in Prometheus format ({@code http://host:port/q/metrics}), by name
     * ("scheduler", "submitter", "worker-1", ...), in order of start; as this machine reaches them.
     */
    public Map<String, String> metricsUrls() {
        return java.util.Collections.unmodifiableMap(metricsUrls);
    }

    /** The pid now running under {@code name} ("kafka", "postgres", "scheduler", "worker-1", ...), or -1. */
    public long pid(String name) {
        ChildProcess child = supervisor.current(name);
        return child == null ? -1 : child.pid();
    }

    /** Stops every process in reverse order of start. Safe to call twice, and from a shutdown hook. */
    @Override
    public void close() {
        supervisor.close();
        if (lock != null) {
            lock.close();
        }
    }

    boolean closing() {
        return supervisor.closing();
    }

    private void startAll(UpOptions options, PrintStream out) {
        Path home = projectHome();
        lock = DataDirLock.acquire(dataDir);
        binding = options.binding();
        String localHost = binding.localHost();
        int apiPort = options.port();
        if (Ports.isOpen(localHost, apiPort)) {
            throw new IllegalStateException("port " + apiPort + " is already in use: stop what uses it, or pass --port");
        }
        model = ModelChoice.resolve(options.model(), dataDir);
        out.println("Model: " + model.id() + " (" + model.path() + ", " + (model.sizeBytes() >> 20) + " MiB)");
        if (model.synthetic()) {
            out.println("""
                    *****************************************************************************
                    *  NO MODEL GIVEN AND NONE FOUND: serving a GENERATED model with RANDOM     *
                    *  WEIGHTS. Its text is noise. Pass --model PATH.gguf or an Ollama name.    *
                    *****************************************************************************""");
        }

        if (binding.shared()) {
            out.println("Listening on " + binding.bind() + "; other machines reach this one as " + binding.advertise()
                    + " (" + binding.advertiseSource() + ")");
        }
        String bootstrap = options.kafka();
        String remoteBootstrap = bootstrap;
        String kafkaPassword = null;
        if (bootstrap == null) {
            int kafkaPort = preferredPort(options.kafkaPort(), DEFAULT_KAFKA_PORT, "Kafka", "--kafka-port", out);
            out.println("Starting Kafka (log " + logs.resolve("kafka.log") + ") ...");
            // Shared: other machines log in (SCRAM); this machine's apps use a loopback listener.
            String password = binding.shared() ? KeptPassword.kafka(dataDir) : null;
            List<LocalKafka.Route> routes = placement.brokerRoutes();
            LocalKafka kafka = LocalKafka.start(dataDir.resolve("kafka"), binding, kafkaPort, 0,
                    logs.resolve("kafka.log"), password, routes);
            placement.started("kafka", List.of(kafka.pid()));
            // Again on the same ports: the apps' bootstrap.servers names them.
            supervisor.add("kafka", kafka.process(), () -> LocalKafka.start(dataDir.resolve("kafka"), binding,
                    kafka.port(), kafka.localPort(), logs.resolve("kafka.log"), password, routes).process());
            bootstrap = kafka.bootstrapServers();
            remoteBootstrap = kafka.sharedBootstrapServers();
            kafkaPassword = password;
        }
        String jdbcUrl = options.database();
        String remoteJdbcUrl = jdbcUrl;
        String dbUser = options.dbUser() == null ? LocalPostgres.USER : options.dbUser();
        String dbPassword = options.dbPassword() != null ? options.dbPassword()
                : jdbcUrl != null ? LocalPostgres.PASSWORD : KeptPassword.database(dataDir, binding.shared());
        if (jdbcUrl == null) {
            int dbPort = preferredPort(options.dbPort(), DEFAULT_DB_PORT, "PostgreSQL", "--db-port", out);
            out.println("Starting PostgreSQL (log " + logs.resolve("postgres.log") + ") ...");
            LocalPostgres postgres = LocalPostgres.start(dataDir.resolve("postgres"), binding, dbPort,
                    logs.resolve("postgres.log"), dbPassword);
            placement.started("postgres", postgres.pids());
            supervisor.add("postgres", postgres.process(), () -> LocalPostgres.start(dataDir.resolve("postgres"),
                    binding, postgres.port(), logs.resolve("postgres.log"), dbPassword).process());
            jdbcUrl = postgres.jdbcUrl();
            remoteJdbcUrl = "jdbc:postgresql://" + Binding.hostPort(binding.advertise(), postgres.port()) + "/"
                    + LocalPostgres.DATABASE;
        }
        this.bootstrapServers = bootstrap;
        this.jdbcUrl = jdbcUrl;
        this.remoteJdbcUrl = remoteJdbcUrl;
        this.remoteBootstrapServers = remoteBootstrap;
        this.kafkaPassword = kafkaPassword;
        this.joinCommand = joinCommand(options, remoteBootstrap, kafkaPassword, remoteJdbcUrl, dbUser, dbPassword);

        Map<String, String> common = commonConfig(bootstrap, jdbcUrl, dbUser, dbPassword, model);

        // One at a time: the scheduler and the submitter both migrate the schema at start.
        int schedulerPort = options.schedulerPort() != 0 ? options.schedulerPort()
                : Ports.isOpen("127.0.0.1", DEFAULT_SCHEDULER_PORT) ? Ports.free() : DEFAULT_SCHEDULER_PORT;
        startApp(out, "scheduler", home, "512m", common, Map.of("quarkus.http.port", Integer.toString(schedulerPort),
                // Only this machine's operator asks the scheduler anything.
                "quarkus.http.host", Binding.LOOPBACK,
                // Plan once all N workers registered, instead of re-planning as each one joins.
                "bunshin.scheduler.expected-workers", Integer.toString(options.workers())))
                .awaitReady(APP_READY_TIMEOUT);
        Map<String, String> submitter = new LinkedHashMap<>();
        submitter.put("quarkus.http.port", Integer.toString(apiPort));
        submitter.put("quarkus.http.host", binding.bind());
        if (options.adminKeys() != null) {
            submitter.put("bunshin.api.admin-keys", options.adminKeys());
        }
        if (options.apiKey() != null) {
            submitter.put("bunshin.api.key", options.apiKey()); // in the environment, not on the command line
        } else if (options.adminKeys() == null && binding.beyondLoopback()) {
            out.println("WARNING: the API on " + binding.bind() + " accepts requests from any host without a key:"
                    + " pass --api-key KEY to require one");
        }
        startApp(out, "submitter", home, "768m", common, submitter).awaitReady(APP_READY_TIMEOUT);

        int workers = options.workers();
        int threads = options.threads() > 0 ? options.threads()
                : Math.max(1, Runtime.getRuntime().availableProcessors() / workers);
        int memoryGiB = workerMemoryGiB(model.sizeBytes(), workers);
        List<QuarkusApp> workerApps = new ArrayList<>();
        // The Java engine holds its weights on the heap; llama.cpp maps them and keeps its KV cache natively, so its
        // worker's heap only carries records (a heap as large as the model would let the JVM grow into memory the
        // weights and caches need, past a node's cap).
        String workerHeap = "llama.cpp".equals(options.backend()) ? LLAMA_WORKER_HEAP : memoryGiB + "g";
        for (int w = 1; w <= workers; w++) {
            workerApps.add(startApp(out, "worker-" + w, home, workerHeap, common,
                    workerConfig("worker-" + w, memoryGiB, threads, options.backend())));
        }
        // Workers load their layers in parallel; wait for all.
        for (QuarkusApp worker : workerApps) {
            worker.awaitReady(APP_READY_TIMEOUT);
        }
        apiUrl = "http://" + Binding.hostPort(localHost, apiPort);
    }

    private QuarkusApp startApp(PrintStream out, String name, Path home, String heap, Map<String, String> common,
                                Map<String, String> own) {
        String module = name.startsWith("worker-") ? "stage-worker" : name;
        Path log = logs.resolve(name + ".log");
        Map<String, String> placed = new LinkedHashMap<>(own);
        placed.putAll(placement.config(name));
        placed.put("kafka.bootstrap.servers", placement.route(name, "kafka", common.get("kafka.bootstrap.servers")));
        placed.put("quarkus.datasource.jdbc.url", routedJdbcUrl(name, common.get("quarkus.datasource.jdbc.url")));
        if (placement.offLoopback(name)) {
            // In a namespace this machine's loopback listener is out of reach: the shared one, as a joined worker.
            placed.put("kafka.bootstrap.servers", remoteBootstrapServers);
            if (kafkaPassword != null) placed.put("bunshin.kafka.password", kafkaPassword);
        }
        out.println("Starting " + name + " on port " + placed.get("quarkus.http.port") + " (log " + log + ") ...");
        List<String> prefix = new ArrayList<>(placement.commandPrefix(name));
        if (name.startsWith("worker-")) prefix.addAll(List.of("nice", "-n", Integer.toString(WORKER_NICENESS)));
        String placedHeap = placement.heap(name, heap);
        QuarkusApp app = launch(home, module, name, prefix, placedHeap, common, placed, dataDir, log);
        placement.started(name, List.of(app.pid()));
        metricsUrls.put(name, metricsUrl(placed.get("quarkus.http.host"), placed.get("quarkus.http.port")));
        supervisor.add(name, app.process(), () -> {
            QuarkusApp again = launch(home, module, name, prefix, placedHeap, common, placed, dataDir, log);
            again.awaitReadyOrStop(APP_READY_TIMEOUT);
            placement.started(name, List.of(again.pid()));
            return again.process();
        });
        return app;
    }

    /** An app's {@code /q/metrics} on {@code host} (a wildcard one reached on this machine's address) and port. */
    private static String metricsUrl(String host, String port) {
        String reach = host == null || Binding.isWildcard(host) ? Binding.LOOPBACK : host;
        return "http://" + Binding.hostPort(reach, Integer.parseInt(port)) + "/q/metrics";
    }

    /** Starts {@code <home>/<module>/target/quarkus-app/quarkus-run.jar} with {@code common} and {@code own} config. */
    static QuarkusApp launch(Path home, String module, String name, String heap, Map<String, String> common,
                             Map<String, String> own, Path workDir, Path log) {
        return launch(home, module, name, List.of(), heap, common, own, workDir, log);
    }

    /** As above, the command run under {@code prefix} (e.g. {@code taskset -c 1}, {@code ip netns exec …}). */
    static QuarkusApp launch(Path home, String module, String name, List<String> prefix, String heap,
                             Map<String, String> common, Map<String, String> own, Path workDir, Path log) {
        Path jar = home.resolve(module).resolve("target").resolve("quarkus-app").resolve("quarkus-run.jar");
        Map<String, String> config = new LinkedHashMap<>(common);
        config.putAll(own);
        return QuarkusApp.start(name, prefix, jar, heap, config, workDir, log);
    }

    /** {@code jdbc:postgresql://host:port/db} with host:port as {@link NodePlacement#route} gives it for the app. */
    private String routedJdbcUrl(String app, String url) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(jdbc:postgresql://)([^/]+)(/.*)").matcher(url);
        if (!m.matches()) return url;
        return m.group(1) + placement.route(app, "postgres", m.group(2)) + m.group(3);
    }

    /** The config keys every app reads: Kafka, the database, the model. */
    static Map<String, String> commonConfig(String bootstrap, String jdbcUrl, String dbUser, String dbPassword,
                                            ModelChoice model) {
        Map<String, String> common = new LinkedHashMap<>();
        common.put("kafka.bootstrap.servers", bootstrap);
        common.put("quarkus.datasource.jdbc.url", jdbcUrl);
        common.put("quarkus.datasource.username", dbUser);
        common.put("quarkus.datasource.password", dbPassword);
        common.put("quarkus.devservices.enabled", "false");
        common.put("bunshin.model", model.path().toString());
        common.put("bunshin.model-id", model.id());
        return common;
    }

    /** A stage worker's own config: id, memory, threads, backend, and a free HTTP port on loopback (health only). */
    static Map<String, String> workerConfig(String id, int memoryGiB, int threads, String backend) {
        Map<String, String> own = new LinkedHashMap<>();
        own.put("quarkus.http.port", Integer.toString(Ports.free()));
        own.put("quarkus.http.host", Binding.LOOPBACK);
        own.put("bunshin.worker.id", id);
        own.put("bunshin.worker.memory", memoryGiB + "G");
        own.put("bunshin.worker.threads", Integer.toString(threads));
        own.put("bunshin.worker.backend", backend);
        return own;
    }

    /**
     * The port asked for; else, when other machines connect, the usual port if free (stable across restarts, so a
     * join command keeps working), else a free one.
     */
    private int preferredPort(int asked, int usual, String what, String option, PrintStream out) {
        if (asked != 0 || !binding.shared()) {
            return asked;
        }
        if (!Ports.isOpen(binding.localHost(), usual)) {
            return usual;
        }
        out.println("Port " + usual + " is in use: " + what + " takes a free port, which changes at each start"
                + " (pin one with " + option + " P)");
        return 0;
    }

    /** See {@link #joinCommand()}. */
    private String joinCommand(UpOptions options, String bootstrap, String kafkaPassword, String remoteJdbcUrl,
                               String dbUser, String dbPassword) {
        boolean byPath = model.synthetic() || options.model() != null && Files.isRegularFile(Path.of(options.model()));
        StringBuilder line = new StringBuilder();
        if (kafkaPassword != null) {
            line.append(WorkerOptions.KAFKA_PASSWORD_ENV + "=").append(shellQuote(kafkaPassword)).append(' ');
        }
        line.append("BUNSHIN_DB_PASSWORD=").append(shellQuote(dbPassword)).append(" ./bunshin worker --join ")
                .append(bootstrap).append(" --database ").append(remoteJdbcUrl);
        if (!dbUser.equals(LocalPostgres.USER)) {
            line.append(" --db-user ").append(shellQuote(dbUser));
        }
        line.append(" --model ").append(shellQuote(byPath ? model.path().toString() : model.id()));
        if (byPath) {
            // The worker must register under the scheduler's model id, whatever the file is called there.
            line.append(" --model-id ").append(shellQuote(model.id()));
        }
        return line.toString();
    }

    /** {@code value} as one shell word: as is when plain, else in single quotes. */
    static String shellQuote(String value) {
        if (value.matches("[A-Za-z0-9_./:@%+=,-]+")) {
            return value;
        }
        return "'" + value.replace("'", "'\\''") + "'";
    }

    /**
     * Heap per worker: the engine maps the weights, but a worker may hold dequantized copies, the KV cache and
     * activations; two bytes per weight byte of its share plus 512 MiB, at least 1 GiB, and no more than its
     * share of 80% of the machine's memory.
     */
    /**
     * How much nicer than the rest of the stack a stage worker runs. A worker's engine keeps its core busy; Kafka,
     * PostgreSQL, the scheduler and the submitter need little CPU but need it at once: every decode step waits on
     * two hops through the broker and the tail's transaction. At equal priority a woken broker thread could wait for
     * an engine's time slice on a shared core; at a lower one for the engine it runs first.
     */
    static final int WORKER_NICENESS = 5;

    /** The heap of a worker on the llama.cpp backend (records and activations only; weights and KV are native). */
    static final String LLAMA_WORKER_HEAP = "768m";

    static int workerMemoryGiB(long modelBytes, int workers) {
        long wanted = 2 * modelBytes / workers + (512L << 20);
        long total = physicalMemory();
        long cap = total > 0 ? (long) (total * 0.8 / workers) : Long.MAX_VALUE;
        long bytes = Math.min(wanted, cap);
        return (int) Math.max(1, (bytes + (1L << 30) - 1) >> 30);
    }

    private static long physicalMemory() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getTotalMemorySize();
        }
        return -1;
    }

    /**
     * The project checkout holding {@code <module>/target/quarkus-app}: {@code -Dbunshin.home}, else the first
     * of the working directory and its parents, then of this class's jar or classes directory and its parents,
     * that has {@code scheduler/}, {@code submitter/} and {@code stage-worker/}.
     */
    static Path projectHome() {
        String configured = System.getProperty("bunshin.home");
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured).toAbsolutePath();
        }
        List<Path> starts = new ArrayList<>();
        starts.add(Path.of("").toAbsolutePath());
        // Where this class was loaded from (launcher/target/classes, cli/target/lib/...): inside the checkout.
        try {
            var source = LocalStack.class.getProtectionDomain().getCodeSource();
            if (source != null) {
                starts.add(Path.of(source.getLocation().toURI()).toAbsolutePath());
            }
        } catch (java.net.URISyntaxException | RuntimeException ignored) {
            // the working directory is still tried
        }
        for (Path start : starts) {
            for (Path dir = start; dir != null; dir = dir.getParent()) {
                if (Files.isDirectory(dir.resolve("scheduler")) && Files.isDirectory(dir.resolve("submitter"))
                        && Files.isDirectory(dir.resolve("stage-worker"))) {
                    return dir;
                }
            }
        }
        throw new IllegalStateException("cannot find the Bunshin checkout from " + starts
                + ": run from it, or pass -Dbunshin.home=DIR");
    }
}
