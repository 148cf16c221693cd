package dev.bunshin.launcher;

import dev.bunshin.protocol.KafkaCredentials;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A real Apache Kafka 4.4 broker in KRaft mode (one node that is both broker and controller), running as a child
 * JVM from the kafka_2.13 jars resolved at build time.
 *
 * <p>Its log directory lives under {@code dir}, so topics and offsets survive a restart on the same directory.
 * The broker listens on 127.0.0.1 unless started with another bind address (and then advertises the host given
 * for other machines); its controller listener stays on 127.0.0.1. {@link #close()} stops it cleanly and waits; the JVM's shutdown stops
 * it too.
 *
 * <pre>{@code
 * try (LocalKafka kafka = LocalKafka.start(dir)) {
 *     props.put("bootstrap.servers", kafka.bootstrapServers());
 * }
 * }</pre>
 */
public final class LocalKafka implements AutoCloseable {

    /** The largest record batch the broker accepts: activations of a long prefill chunk are big. */
    public static final int MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

    private static final String CLASSPATH_RESOURCE = "kafka-broker.classpath";
    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);
    private static final String STARTED_LINE = "Kafka Server started";

    private final ChildProcess process;
    private final int port;
    private final int localPort;
    private final Binding binding;
    private final boolean authenticated;

    private LocalKafka(ChildProcess process, int port, int localPort, Binding binding, boolean authenticated) {
        this.process = process;
        this.port = port;
        this.localPort = localPort;
        this.binding = binding;
        this.authenticated = authenticated;
    }

    /** Starts a broker on a free port with its data and its log ({@code kafka.log}) under {@code dir}. */
    public static LocalKafka start(Path dir) {
        return start(dir, 0, dir.resolve("kafka.log"));
    }

    /**
     * Starts a broker and waits until it serves clients.
     *
     * @param dir its home: {@code server.properties} and the {@code data} log directory (kept across restarts)
     * @param port the client port on 127.0.0.1, or 0 for a free one
     * @param log where the broker's stdout and stderr go (appended)
     * @throws IllegalStateException with the tail of the broker's log when it does not come up
     */
    public static LocalKafka start(Path dir, int port, Path log) {
        return start(dir, Binding.LOCAL, port, log);
    }

    /**
     * Starts a broker listening on {@code binding.bind()} and advertising {@code binding.advertise()}, and waits
     * until it serves clients.
     *
     * @param port the client port, or 0 for a free one
     */
    public static LocalKafka start(Path dir, Binding binding, int port, Path log) {
        return start(dir, binding, port, 0, log, null);
    }

    /**
     * As above; with a {@code password}, clients on {@code binding} must log in (SASL/SCRAM-SHA-256 as
     * {@link KafkaCredentials#USER} with that password: what {@code worker --join} does), and this machine's
     * processes use a second listener on 127.0.0.1:{@code localPort} ({@link #bootstrapServers()}) that needs no
     * login. The password is set at every start (kept nowhere but in the broker's metadata, hashed).
     *
     * @param localPort the loopback listener's port when authenticated, or 0 for a free one
     */
    public static LocalKafka start(Path dir, Binding binding, int port, int localPort, Path log, String password) {
        return start(dir, binding, port, localPort, log, password, List.of());
    }

    /**
     * A loopback listener of its own for one kind of client: the broker listens on 127.0.0.1:{@code port} as
     * {@code name} (plain, no login) and tells the clients that came in there to connect to 127.0.0.1:{@code
     * advertisedPort}, where something sits in between (a {@link DelayLink}: a simulated node's link), so that
     * every connection of those clients, not only the first, goes through it.
     */
    public record Route(String name, int port, int advertisedPort) {
        public Route {
            if (!name.matches("[A-Z][A-Z0-9_]*") || List.of("PLAINTEXT", "CONTROLLER", "LOCAL", "SHARED").contains(name)) {
                throw new IllegalArgumentException("a listener name of upper-case letters, digits and _ that the broker"
                        + " does not use itself, got '" + name + "'");
            }
        }
    }

    /** As above, with {@code routes}: loopback listeners of their own for some clients (see {@link Route}). */
    public static LocalKafka start(Path dir, Binding binding, int port, int localPort, Path log, String password,
                                   List<Route> routes) {
        Objects.requireNonNull(dir, "dir == null");
        Objects.requireNonNull(binding, "binding == null");
        Path home = dir.toAbsolutePath();
        int clientPort = Ports.orFree(port);
        boolean authenticated = password != null;
        int loopbackPort = authenticated ? Ports.orFree(localPort) : clientPort;
        int controllerPort = Ports.free();
        try {
            Files.createDirectories(home.resolve("data"));
            Path config = home.resolve("server.properties");
            Files.writeString(config, withRoutes(serverProperties(home.resolve("data"), binding, clientPort,
                    authenticated ? loopbackPort : 0, controllerPort), routes));
            Path log4j = home.resolve("log4j2.properties");
            Files.writeString(log4j, LOG4J);

            List<String> jvm = jvm(log4j);
            if (!Files.exists(home.resolve("data").resolve("meta.properties"))) {
                // KRaft needs its storage formatted once with a cluster id; a restart reuses it.
                List<String> format = new ArrayList<>(jvm);
                format.addAll(List.of("kafka.tools.StorageTool", "format", "--cluster-id", newClusterId(),
                        "--config", config.toString(), "--ignore-formatted"));
                ChildProcess.runToCompletion("kafka storage format", format, home, log, Duration.ofSeconds(60));
            }

            long logStart = Files.exists(log) ? Files.size(log) : 0;
            List<String> server = new ArrayList<>(jvm);
            server.addAll(List.of("kafka.Kafka", config.toString()));
            ChildProcess child = ChildProcess.start("kafka", server, home, Map.of(), log, "TERM",
                    Duration.ofSeconds(30));
            LocalKafka kafka = new LocalKafka(child, clientPort, loopbackPort, binding, authenticated);
            try {
                kafka.awaitStarted(log, logStart);
                if (authenticated) kafka.setPassword(password);
            } catch (RuntimeException e) {
                child.close();
                throw e;
            }
            return kafka;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare Kafka in " + home, e);
        }
    }

    /**
     * For this machine's clients: the loopback listener when other machines must log in, else
     * {@code <advertised host>:port} ({@code 127.0.0.1:port} by default).
     */
    public String bootstrapServers() {
        return authenticated ? Binding.hostPort(Binding.LOOPBACK, localPort) : sharedBootstrapServers();
    }

    /** For other machines' clients: {@code <advertised host>:port} (where they log in, when authenticated). */
    public String sharedBootstrapServers() {
        return Binding.hostPort(binding.advertise(), port);
    }

    /** Whether clients on the bind address must log in (SASL/SCRAM). */
    public boolean authenticated() {
        return authenticated;
    }

    public int port() {
        return port;
    }

    /** The loopback listener's port (the client port itself when not authenticated). */
    public int localPort() {
        return localPort;
    }

    /** The broker JVM's pid. */
    public long pid() {
        return process.pid();
    }

    /** The broker's log file. */
    public Path log() {
        return process.log();
    }

    /** The child process, for a {@link Supervisor}. */
    ChildProcess process() {
        return process;
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** Stops the broker (SIGTERM: a controlled shutdown that flushes the logs), killing it after 30 s. */
    @Override
    public void close() {
        process.close();
    }

    /** Creates or updates the SCRAM user that other machines log in as, through the loopback listener. */
    private void setPassword(String password) {
        try (Admin admin = Admin.create(Map.<String, Object>of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                bootstrapServers()))) {
            admin.alterUserScramCredentials(List.of(new UserScramCredentialUpsertion(KafkaCredentials.USER,
                    new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, 8192), password))).all()
                    .get(60, java.util.concurrent.TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("could not set Kafka's SCRAM user " + KafkaCredentials.USER + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted setting Kafka's SCRAM user", e);
        }
    }

    private void awaitStarted(Path log, long logStart) throws IOException {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            process.checkAlive();
            if (Ports.isOpen(binding.localHost(), port) && logSince(log, logStart).contains(STARTED_LINE)) {
                return;
            }
            sleep(200);
        }
        throw new IllegalStateException("Kafka did not start within " + START_TIMEOUT + " on port " + port
                + "; log " + log + ":\n" + process.tail(40));
    }

    private static String logSince(Path log, long offset) throws IOException {
        try (InputStream in = Files.newInputStream(log)) {
            in.skipNBytes(Math.min(offset, Files.size(log)));
            return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }

    private static List<String> jvm(Path log4j) {
        return new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                // A small machine runs the broker beside a model: keep its heap small.
                "-Xms128m", "-Xmx512m", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20",
                // C1 only: C2 compiling the broker's request paths took cores from the engines beside it for minutes.
                "-XX:TieredStopAtLevel=1",
                "-Djava.awt.headless=true",
                "-Dlog4j2.configurationFile=" + log4j.toUri(),
                "-cp", brokerClasspath()));
    }

    /** @param localPort the loopback listener's port when clients on {@code binding} must log in, else 0 */
    static String serverProperties(Path dataDir, Binding binding, int clientPort, int localPort, int controllerPort) {
        return String.join("\n",
                "# Written by dev.bunshin.launcher.LocalKafka at every start; edits are overwritten.",
                "process.roles=broker,controller",
                "node.id=1",
                // A static one-voter quorum: the voters live in this file, not in the log, so ports may change
                // between restarts of the same data directory.
                "controller.quorum.voters=1@127.0.0.1:" + controllerPort,
                localPort == 0 ? openListeners(binding, clientPort, controllerPort)
                        : authenticatedListeners(binding, clientPort, localPort, controllerPort),
                "controller.listener.names=CONTROLLER",
                "log.dirs=" + dataDir,
                // The scheduler creates its topics explicitly; this is for anything created on first use.
                "num.partitions=8",
                "auto.create.topics.enable=true",
                // One node: every internal topic has one replica.
                "offsets.topic.replication.factor=1",
                "offsets.topic.num.partitions=8",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "transaction.state.log.num.partitions=8",
                "share.coordinator.state.topic.replication.factor=1",
                "share.coordinator.state.topic.min.isr=1",
                // Nobody else will join: rebalance at once instead of waiting 3 s for more consumers.
                "group.initial.rebalance.delay.ms=0",
                // Activations of a prefill chunk (tokens x n_embd floats) can be several MiB.
                "message.max.bytes=" + MAX_MESSAGE_BYTES,
                "replica.fetch.max.bytes=" + MAX_MESSAGE_BYTES,
                "num.network.threads=2",
                "num.io.threads=4",
                "")
                .replace("\\", "\\\\");
    }

    /** Adds each route's listener to {@code listeners}, {@code advertised.listeners} and the protocol map. */
    static String withRoutes(String properties, List<Route> routes) {
        StringBuilder listeners = new StringBuilder();
        StringBuilder advertised = new StringBuilder();
        StringBuilder protocols = new StringBuilder();
        for (Route r : routes) {
            listeners.append(',').append(r.name()).append("://127.0.0.1:").append(r.port());
            advertised.append(',').append(r.name()).append("://127.0.0.1:").append(r.advertisedPort());
            protocols.append(',').append(r.name()).append(":PLAINTEXT");
        }
        List<String> lines = new ArrayList<>();
        for (String line : properties.split("\n", -1)) {
            if (line.startsWith("listeners=")) line += listeners;
            else if (line.startsWith("advertised.listeners=")) line += advertised;
            else if (line.startsWith("listener.security.protocol.map=")) line += protocols;
            lines.add(line);
        }
        return String.join("\n", lines);
    }

    /** One listener for every client, here and on other machines, on --bind: no login. */
    private static String openListeners(Binding binding, int clientPort, int controllerPort) {
        return String.join("\n",
                // Clients (here and on other machines) on --bind; the controller only ever talks to itself.
                "listeners=PLAINTEXT://" + Binding.hostPort(binding.bind(), clientPort)
                        + ",CONTROLLER://127.0.0.1:" + controllerPort,
                // What metadata tells clients to connect to: a wildcard would be useless to them.
                "advertised.listeners=PLAINTEXT://" + Binding.hostPort(binding.advertise(), clientPort),
                "inter.broker.listener.name=PLAINTEXT",
                "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT");
    }

    /**
     * Other machines on --bind must log in (SASL/SCRAM-SHA-256: nothing on the LAN reads or writes a topic without
     * the password); this machine's processes use a loopback listener. SASL_PLAINTEXT: the password never crosses
     * the wire (SCRAM), the records do, in the clear, as the database's do.
     */
    private static String authenticatedListeners(Binding binding, int clientPort, int localPort, int controllerPort) {
        return String.join("\n",
                "listeners=SHARED://" + Binding.hostPort(binding.bind(), clientPort)
                        + ",LOCAL://127.0.0.1:" + localPort + ",CONTROLLER://127.0.0.1:" + controllerPort,
                "advertised.listeners=SHARED://" + Binding.hostPort(binding.advertise(), clientPort)
                        + ",LOCAL://127.0.0.1:" + localPort,
                "inter.broker.listener.name=LOCAL",
                "listener.security.protocol.map=CONTROLLER:PLAINTEXT,LOCAL:PLAINTEXT,SHARED:SASL_PLAINTEXT",
                "sasl.enabled.mechanisms=" + KafkaCredentials.MECHANISM,
                "listener.name.shared.sasl.enabled.mechanisms=" + KafkaCredentials.MECHANISM,
                "listener.name.shared.scram-sha-256.sasl.jaas.config="
                        + "org.apache.kafka.common.security.scram.ScramLoginModule required;");
    }

    /** The jars of kafka_2.13 4.4.0 and its dependencies, as resolved by Maven when the launcher was built. */
    static String brokerClasspath() {
        String override = System.getProperty("bunshin.kafka.classpath");
        if (override != null && !override.isBlank()) {
            return override;
        }
        try (InputStream in = LocalKafka.class.getResourceAsStream(CLASSPATH_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("resource " + CLASSPATH_RESOURCE + " is missing next to "
                        + LocalKafka.class.getName() + ": build the launcher with Maven (mvn -pl launcher -am compile)");
            }
            String classpath = new String(in.readAllBytes(), StandardCharsets.UTF_8).strip();
            for (String jar : classpath.split(java.io.File.pathSeparator)) {
                if (!Files.isRegularFile(Path.of(jar))) {
                    throw new IllegalStateException("Kafka broker jar " + jar + " (listed in " + CLASSPATH_RESOURCE
                            + ") is missing: rebuild the launcher module with Maven to resolve it again");
                }
            }
            return classpath;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + CLASSPATH_RESOURCE, e);
        }
    }

    /**
     * A KRaft cluster id: 16 random bytes in URL-safe base64 without padding, like Kafka's own Uuid. Like Kafka's
     * Uuid.randomUuid, an id starting with '-' is drawn again: the storage tool would read it as an option.
     */
    static String newClusterId() {
        SecureRandom random = new SecureRandom();
        byte[] bytes = new byte[16];
        String id;
        do {
            random.nextBytes(bytes);
            id = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
        } while (id.startsWith("-"));
        return id;
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for Kafka", e);
        }
    }

    private static final String LOG4J = """
            # Written by dev.bunshin.launcher.LocalKafka. The broker logs to stdout, which goes to its log file.
            status = warn
            appender.stdout.type = Console
            appender.stdout.name = STDOUT
            appender.stdout.layout.type = PatternLayout
            appender.stdout.layout.pattern = [%d] %p %m (%c)%n
            rootLogger.level = INFO
            rootLogger.appenderRef.stdout.ref = STDOUT
            logger.state.name = state.change.logger
            logger.state.level = WARN
            logger.request.name = kafka.request.logger
            logger.request.level = WARN
            """;
}
