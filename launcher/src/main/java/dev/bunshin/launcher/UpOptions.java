package dev.bunshin.launcher;

import java.nio.file.Path;
import java.util.Objects;

/**
 * The options of {@code ./bunshin up} (and {@code ./bunshin demo}).
 *
 * @param model a .gguf path or an Ollama name; null picks a default (see {@link ModelChoice})
 * @param workers how many stage workers to start (the model's layers are split among them)
 * @param port the submitter's HTTP port (the API)
 * @param schedulerPort the scheduler's HTTP port; 0 means 8081 if free, else any free port
 * @param dataDir where Kafka's and PostgreSQL's data, the logs and a generated model live
 * @param kafka an existing broker's HOST:PORT, or null to start one
 * @param database an existing PostgreSQL's JDBC URL, or null to start one
 * @param threads compute threads per worker; 0 divides the cores among the workers
 * @param bind the address Kafka, PostgreSQL and the API listen on (default 127.0.0.1: this machine only)
 * @param advertise the host other machines reach this one by; null derives it from {@code bind} (see {@link Binding})
 * @param kafkaPort the embedded Kafka's port; 0: 9092 if free when binding beyond loopback, else any free port
 * @param dbPort the embedded PostgreSQL's port; 0: 5432 if free when binding beyond loopback, else any free port
 * @param apiKey the key API clients must send (passed to the submitter as {@code bunshin.api.key}), or null
 * @param adminKeys keys that see and act on every tenant's jobs, batches and files (the submitter's
 *                  {@code bunshin.api.admin-keys}), or null
 * @param maxRestarts how often one child may be restarted within 10 minutes before {@code up} gives up; 0: never
 * @param backend what the stage workers run the layers with: {@code java} or {@code llama.cpp}
 */
public record UpOptions(String model, int workers, int port, int schedulerPort, Path dataDir, String kafka,
                        String database, String dbUser, String dbPassword, int threads, String bind,
                        String advertise, int kafkaPort, int dbPort, String apiKey, String adminKeys, int maxRestarts,
                        String backend) {

    public static final String USAGE = """
            usage: ./bunshin up [options]
              --model MODEL          a .gguf file or an Ollama model name (default: the smallest Ollama model,
                                     else a generated random-weight model)
              --workers N            stage workers to start (default 2)
              --port P               the API's HTTP port (default 8080)
              --scheduler-port P     the scheduler's HTTP port (default 8081, or a free one)
              --data-dir DIR         data, logs and generated files (default ./.bunshin)
              --kafka HOST:PORT      use this Kafka instead of starting one
              --database JDBC_URL    use this PostgreSQL instead of starting one (with --db-user, --db-password)
              --threads T            compute threads per worker (default: cores / workers)
              --bind ADDRESS         where Kafka, PostgreSQL and the API listen (default 127.0.0.1: this machine
                                     only; 0.0.0.0 or a LAN IP lets other machines join with ./bunshin worker)
              --advertise HOST       the host other machines reach this one by (default: the --bind address, or
                                     for 0.0.0.0 this machine's host name, else its first LAN IPv4)
              --kafka-port P         the embedded Kafka's port (default 9092 with --bind if free, else any)
              --db-port P            the embedded PostgreSQL's port (default 5432 with --bind if free, else any)
              --api-key KEY          the API wants "Authorization: Bearer KEY" (several: comma-separated;
                                     default: no key, and a warning when --bind reaches beyond this machine)
              --admin-key KEY        a key that sees and acts on every tenant's jobs, batches and files
                                     (several: comma-separated; each --api-key is a tenant of its own)
              --max-restarts N       a child that dies is restarted (after 1 s, 2 s, 4 s, ... up to 30 s); one that
                                     dies more than N times within 10 minutes stops everything (default 5; 0: the
                                     first death stops everything)
              --backend B            what the stage workers run the layers with: java (our engine, the default)
                                     or llama.cpp (libllama, obtained by the build)
            """;

    public UpOptions {
        Objects.requireNonNull(dataDir, "dataDir == null");
        if (workers < 1) {
            throw new IllegalArgumentException("--workers must be at least 1: " + workers);
        }
        if (threads < 0) {
            throw new IllegalArgumentException("--threads must be positive: " + threads);
        }
        if (database == null && (dbUser != null || dbPassword != null)) {
            throw new IllegalArgumentException("--db-user and --db-password go with --database JDBC_URL");
        }
        if (database != null && !database.startsWith("jdbc:postgresql:")) {
            throw new IllegalArgumentException("--database must be a jdbc:postgresql: URL: " + database);
        }
        Objects.requireNonNull(bind, "bind == null");
        if (bind.isBlank()) {
            throw new IllegalArgumentException("--bind needs an address, got \"\"");
        }
        if (advertise != null && (advertise.isBlank() || advertise.contains("/") || advertise.contains(" "))) {
            throw new IllegalArgumentException("--advertise must be a host name or IP address, got \"" + advertise + "\"");
        }
        checkPort("--port", port, false);
        checkPort("--scheduler-port", schedulerPort, true);
        checkPort("--kafka-port", kafkaPort, true);
        checkPort("--db-port", dbPort, true);
        if (kafka != null && kafkaPort != 0) {
            throw new IllegalArgumentException("--kafka-port is the embedded Kafka's: it does not go with --kafka");
        }
        if (database != null && dbPort != 0) {
            throw new IllegalArgumentException("--db-port is the embedded PostgreSQL's: it does not go with --database");
        }
        if (apiKey != null && apiKey.isBlank()) {
            throw new IllegalArgumentException("--api-key must not be empty");
        }
        if (adminKeys != null && adminKeys.isBlank()) {
            throw new IllegalArgumentException("--admin-key must not be empty");
        }
        if (maxRestarts < 0) {
            throw new IllegalArgumentException("--max-restarts must be 0 or more: " + maxRestarts);
        }
        Options.checkBackend(backend);
        if (kafka != null && !kafka.matches("[^:,\\s]+:\\d+(,[^:,\\s]+:\\d+)*")) {
            throw new IllegalArgumentException("--kafka must be HOST:PORT[,HOST:PORT...]: " + kafka);
        }
    }

    /**
     * Parses command-line arguments ({@code --name value} or {@code --name=value}).
     *
     * @throws IllegalArgumentException naming the bad argument
     */
    public static UpOptions parse(String[] args) {
        String model = null;
        int workers = 2;
        int port = 8080;
        int schedulerPort = 0;
        Path dataDir = Path.of(".bunshin");
        String kafka = null;
        String database = null;
        String dbUser = null;
        String dbPassword = null;
        int threads = 0;
        String bind = Binding.LOOPBACK;
        String advertise = null;
        int kafkaPort = 0;
        int dbPort = 0;
        String apiKey = null;
        String adminKeys = null;
        int maxRestarts = RestartPolicy.DEFAULT.maxRestarts();
        String backend = Options.DEFAULT_BACKEND;
        for (Options.Option option : Options.parse(args, USAGE)) {
            String name = option.name();
            String value = option.value();
            switch (name) {
                case "--model" -> model = value;
                case "--workers" -> workers = Options.intValue(name, value);
                case "--port" -> port = Options.intValue(name, value);
                case "--scheduler-port" -> schedulerPort = Options.intValue(name, value);
                case "--data-dir" -> dataDir = Path.of(value);
                case "--kafka" -> kafka = value;
                case "--database" -> database = value;
                case "--db-user" -> dbUser = value;
                case "--db-password" -> dbPassword = value;
                case "--threads" -> threads = Options.intValue(name, value);
                case "--bind" -> bind = value;
                case "--advertise" -> advertise = value;
                case "--kafka-port" -> kafkaPort = Options.intValue(name, value);
                case "--db-port" -> dbPort = Options.intValue(name, value);
                case "--api-key" -> apiKey = value;
                case "--admin-key" -> adminKeys = adminKeys == null ? value : adminKeys + "," + value;
                case "--max-restarts" -> maxRestarts = Options.intValue(name, value);
                case "--backend" -> backend = value;
                default -> throw new IllegalArgumentException("unknown option: " + name + "\n" + USAGE);
            }
        }
        return new UpOptions(model, workers, port, schedulerPort, dataDir, kafka, database, dbUser, dbPassword,
                threads, bind, advertise, kafkaPort, dbPort, apiKey, adminKeys, maxRestarts, backend);
    }

    /**
     * Where to listen and what to advertise; checks that {@link #bind()} is an address of this machine.
     *
     * @throws IllegalArgumentException naming --bind or --advertise and the value
     */
    public Binding binding() {
        return Binding.of(bind, advertise);
    }

    static boolean wantsHelp(String[] args) {
        for (String arg : args) {
            if (arg.equals("--help") || arg.equals("-h")) {
                return true;
            }
        }
        return false;
    }

    private static void checkPort(String name, int port, boolean zeroAllowed) {
        if (port < (zeroAllowed ? 0 : 1) || port > 65535) {
            throw new IllegalArgumentException(name + " must be a port in " + (zeroAllowed ? 0 : 1) + "..65535: " + port);
        }
    }

}
