package dev.bunshin.launcher;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;

/**
 * The options of {@code ./bunshin worker}: one stage worker on this machine joining a stack that runs elsewhere.
 *
 * @param kafka Kafka's bootstrap servers, {@code HOST:PORT[,HOST:PORT...]} ({@code --join}; port 9092 if left out)
 * @param database the stack's PostgreSQL JDBC URL
 * @param dbUser its user
 * @param dbPassword its password (from --db-password-file, --db-password or $BUNSHIN_DB_PASSWORD)
 * @param model a .gguf path or an Ollama name
 * @param modelId the id to register under, or null for the model's own (file name, Ollama name)
 * @param memoryGiB the worker's memory (its heap and what it offers the planner), or 0 to size it from the model
 * @param threads compute threads, or 0 for every core
 * @param id the worker's id (unique in the stack)
 * @param dataDir where its log goes ({@code <data-dir>/logs/<id>.log})
 * @param maxRestarts how often the worker may be restarted within 10 minutes before the command gives up
 * @param backend what the worker runs its layers with: {@code java} or {@code llama.cpp}
 * @param kafkaPassword the SCRAM password of the stack's Kafka (from --kafka-password-file or
 *                      $BUNSHIN_KAFKA_PASSWORD; {@code up --bind} requires it), or null for a broker without login
 */
public record WorkerOptions(String kafka, String database, String dbUser, String dbPassword, String model,
                            String modelId, int memoryGiB, int threads, String id, Path dataDir,
                            int maxRestarts, String backend, String kafkaPassword) {

    /** The environment variable the join command that {@code up} prints sets: not visible in {@code ps}. */
    public static final String PASSWORD_ENV = "BUNSHIN_DB_PASSWORD";
    /** As {@link #PASSWORD_ENV}, for Kafka's password. */
    public static final String KAFKA_PASSWORD_ENV = "BUNSHIN_KAFKA_PASSWORD";

    public static final String USAGE = """
            usage: ./bunshin worker --join HOST[:PORT] --database JDBC_URL --model MODEL [options]
              starts one stage worker on this machine for a stack started elsewhere with ./bunshin up --bind ...
              (up prints this command, ready to copy). Ctrl-C stops it.
              --join HOST[:PORT]       the stack's Kafka (port 9092 if left out; a comma list is fine)
              --database JDBC_URL      the stack's PostgreSQL, jdbc:postgresql://HOST:PORT/bunshin
              --db-password-file F     a file holding the database password (or set BUNSHIN_DB_PASSWORD;
                                       --db-password P works too, but shows the password in ps)
              --db-user USER           the database user (default bunshin)
              --kafka-password-file F  a file holding Kafka's password (or set BUNSHIN_KAFKA_PASSWORD): the
                                       stack's broker wants a login from other machines (up --bind keeps it in
                                       <data-dir>/kafka-password and prints it in the join command)
              --model MODEL            a .gguf file or an Ollama model name: the stack's model, on this machine
              --model-id ID            register under this model id (default: the file or Ollama name)
              --memory NG              memory for this worker in GiB, e.g. 8G (default: from the model's size)
              --threads T              compute threads (default: every core)
              --id NAME                this worker's id in the stack (default: this machine's host name)
              --data-dir DIR           where its log goes (default ./.bunshin)
              --max-restarts N         the worker is restarted when it dies (after 1 s, 2 s, 4 s, ... up to 30 s);
                                       more than N deaths within 10 minutes stop the command (default 5)
              --backend B              java (our engine, the default) or llama.cpp (libllama, obtained by the
                                       build; -Dbunshin.llama.lib / BUNSHIN_LLAMA_LIB for your own build of it)
            """;

    public WorkerOptions {
        Objects.requireNonNull(dataDir, "dataDir == null");
        if (kafka == null) {
            throw new IllegalArgumentException("option --join is required (the stack's Kafka, HOST[:PORT])");
        }
        if (!kafka.matches("[^:,\\s]+:\\d+(,[^:,\\s]+:\\d+)*")) {
            throw new IllegalArgumentException("--join must be HOST[:PORT][,HOST[:PORT]...]: " + kafka);
        }
        if (database == null) {
            throw new IllegalArgumentException("option --database is required (jdbc:postgresql://HOST:PORT/bunshin)");
        }
        if (!database.startsWith("jdbc:postgresql://")) {
            throw new IllegalArgumentException("--database must be a jdbc:postgresql://HOST:PORT/DATABASE URL: "
                    + database);
        }
        if (model == null) {
            throw new IllegalArgumentException("option --model is required (the stack's model: a .gguf file or"
                    + " an Ollama name)");
        }
        Objects.requireNonNull(dbUser, "dbUser == null");
        if (dbPassword == null) {
            throw new IllegalArgumentException("the database password is missing: pass --db-password-file F, or set "
                    + PASSWORD_ENV + " (up prints the whole command)");
        }
        if (memoryGiB < 0) {
            throw new IllegalArgumentException("--memory must be positive: " + memoryGiB + "G");
        }
        if (threads < 0) {
            throw new IllegalArgumentException("--threads must be positive: " + threads);
        }
        if (id == null || !id.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,62}")) {
            throw new IllegalArgumentException("--id must be letters, digits, '.', '_' or '-' (at most 63): " + id);
        }
        if (maxRestarts < 0) {
            throw new IllegalArgumentException("--max-restarts must be 0 or more: " + maxRestarts);
        }
        Options.checkBackend(backend);
        if (modelId != null && modelId.isBlank()) {
            throw new IllegalArgumentException("--model-id must not be empty");
        }
    }

    /**
     * Parses {@code --name value} or {@code --name=value}; the password may come from {@code env}.
     *
     * @throws IllegalArgumentException naming the bad option and its value
     */
    public static WorkerOptions parse(String[] args, Map<String, String> env) {
        String kafka = null;
        String database = null;
        String dbUser = LocalPostgres.USER;
        String dbPassword = null;
        String passwordFile = null;
        String kafkaPasswordFile = null;
        String model = null;
        String modelId = null;
        int memoryGiB = 0;
        int threads = 0;
        int maxRestarts = RestartPolicy.DEFAULT.maxRestarts();
        String backend = Options.DEFAULT_BACKEND;
        String id = null;
        Path dataDir = Path.of(".bunshin");
        for (Options.Option option : Options.parse(args, USAGE)) {
            String name = option.name();
            String value = option.value();
            switch (name) {
                case "--join" -> kafka = withDefaultPort(value);
                case "--database" -> database = value;
                case "--db-user" -> dbUser = value;
                case "--db-password" -> dbPassword = value;
                case "--db-password-file" -> passwordFile = value;
                case "--kafka-password-file" -> kafkaPasswordFile = value;
                case "--model" -> model = value;
                case "--model-id" -> modelId = value;
                case "--memory" -> memoryGiB = gib(value);
                case "--threads" -> threads = Options.intValue(name, value);
                case "--id" -> id = value;
                case "--data-dir" -> dataDir = Path.of(value);
                case "--max-restarts" -> maxRestarts = Options.intValue(name, value);
                case "--backend" -> backend = value;
                default -> throw new IllegalArgumentException("unknown option: " + name + "\n" + USAGE);
            }
        }
        if (dbPassword != null && passwordFile != null) {
            throw new IllegalArgumentException("--db-password and --db-password-file: give one of them");
        }
        if (passwordFile != null) {
            dbPassword = readPasswordFile("--db-password-file", passwordFile);
        } else if (dbPassword == null) {
            dbPassword = env.get(PASSWORD_ENV);
        }
        String kafkaPassword = kafkaPasswordFile != null ? readPasswordFile("--kafka-password-file", kafkaPasswordFile) : env.get(KAFKA_PASSWORD_ENV);
        if (kafkaPassword != null && kafkaPassword.isBlank()) kafkaPassword = null;
        return new WorkerOptions(kafka, database, dbUser, dbPassword, model, modelId, memoryGiB, threads,
                id == null ? defaultId() : id, dataDir, maxRestarts, backend, kafkaPassword);
    }

    static boolean wantsHelp(String[] args) {
        return UpOptions.wantsHelp(args);
    }

    /** {@code HOST} → {@code HOST:9092}, for each of a comma list. */
    private static String withDefaultPort(String join) {
        StringBuilder out = new StringBuilder();
        for (String part : join.split(",", -1)) {
            if (!out.isEmpty()) {
                out.append(',');
            }
            out.append(part.isEmpty() || part.contains(":") ? part : part + ":" + LocalStack.DEFAULT_KAFKA_PORT);
        }
        return out.toString();
    }

    private static int gib(String value) {
        if (!value.matches("\\d{1,6}[Gg]")) {
            throw new IllegalArgumentException("--memory must be whole GiB like 8G: " + value);
        }
        int g = Integer.parseInt(value.substring(0, value.length() - 1));
        if (g < 1) {
            throw new IllegalArgumentException("--memory must be at least 1G: " + value);
        }
        return g;
    }

    private static String readPasswordFile(String option, String file) {
        try {
            String password = Files.readString(Path.of(file), StandardCharsets.UTF_8).strip();
            if (password.isEmpty()) {
                throw new IllegalArgumentException(option + " " + file + " is empty");
            }
            return password;
        } catch (IOException e) {
            throw new IllegalArgumentException(option + " " + file + ": cannot read it (" + e + ")");
        }
    }

    private static String defaultId() {
        try {
            String host = InetAddress.getLocalHost().getHostName();
            int dot = host.indexOf('.');
            String shortName = (dot > 0 ? host.substring(0, dot) : host).replaceAll("[^A-Za-z0-9._-]", "-");
            return shortName.isEmpty() ? "worker" : shortName;
        } catch (IOException e) {
            return "worker";
        }
    }

}
