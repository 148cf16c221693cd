package dev.bunshin.launcher;

import dev.bunshin.protocol.KafkaCredentials;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Node;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code up --bind}: the set-up for other machines, exercised on one machine by binding to 127.0.0.2 (Linux routes
 * all of 127.0.0.0/8 to lo), with the fake apps standing in for the packaged ones.
 */
class SharedStackTest {

    static final String BIND = "127.0.0.2";

    @Test
    void upWithBindAdvertisesKafkaThereAndGuardsPostgresWithAGeneratedPasswordKeptAcrossRestarts() throws Exception {
        Path dir = TestDirs.fresh("shared-stack");
        Path home = FakeApp.checkout(dir);
        Path model = Files.writeString(dir.resolve("tiny-model.gguf"), "not read by the launcher");
        Path data = dir.resolve("data");
        String previousHome = System.getProperty("bunshin.home");
        System.setProperty("bunshin.home", home.toString());
        try {
            // A first start on the default bind makes a cluster with the default password ...
            try (LocalStack stack = start(model, data, "--workers", "1")) {
                assertFalse(stack.binding().shared());
                assertFalse(Files.exists(data.resolve(KeptPassword.DATABASE_FILE)), "no password file on loopback");
                try (Connection c = DriverManager.getConnection(stack.jdbcUrl(), LocalPostgres.USER,
                        LocalPostgres.PASSWORD)) {
                    assertTrue(c.isValid(5));
                }
            }

            // ... which a start with --bind replaces by a generated one before letting other hosts in.
            int kafkaPort = quietPort();
            int dbPort = quietPort();
            int apiPort = quietPort();
            String[] shared = {"--workers", "1", "--bind", BIND, "--kafka-port", Integer.toString(kafkaPort),
                    "--db-port", Integer.toString(dbPort), "--port", Integer.toString(apiPort), "--api-key", "k3y"};
            ByteArrayOutputStream console = new ByteArrayOutputStream();
            String password;
            List<Long> pids = new ArrayList<>();
            try (LocalStack stack = start(model, data, console, shared)) {
                assertTrue(stack.binding().shared());
                assertEquals(BIND, stack.binding().advertise());
                Path passwordFile = data.resolve(KeptPassword.DATABASE_FILE);
                password = Files.readString(passwordFile).strip();
                assertEquals(24, password.length(), password);
                assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(passwordFile)));

                // Kafka: other machines log in on the bind address (SCRAM, the kept password); this machine's apps use
                // a loopback listener that needs none.
                Path kafkaPasswordFile = data.resolve(KeptPassword.KAFKA_FILE);
                String kafkaPassword = Files.readString(kafkaPasswordFile).strip();
                assertEquals(24, kafkaPassword.length(), kafkaPassword);
                assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(kafkaPasswordFile)));
                String broker = BIND + ":" + kafkaPort;
                assertTrue(stack.bootstrapServers().startsWith("127.0.0.1:"), stack.bootstrapServers());
                assertEquals(List.of(broker), advertisedBrokers(broker,
                        new KafkaCredentials(KafkaCredentials.USER, kafkaPassword).clientSettings()));
                Exception wrong = assertThrows(Exception.class, () -> advertisedBrokers(broker,
                        new KafkaCredentials(KafkaCredentials.USER, "not-the-password").clientSettings()));
                assertTrue(String.valueOf(wrong.getCause()).contains("SaslAuthenticationException"), wrong.toString());
                assertThrows(Exception.class, () -> advertisedBrokers(broker, Map.of(
                        AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 5000,
                        AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 3000)), "no login, no metadata");

                String url = "jdbc:postgresql://" + BIND + ":" + dbPort + "/bunshin";
                assertEquals(url, stack.remoteJdbcUrl());
                try (Connection c = DriverManager.getConnection(url, LocalPostgres.USER, password)) {
                    assertTrue(c.isValid(5));
                }
                SQLException rejected = assertThrows(SQLException.class,
                        () -> DriverManager.getConnection(url, LocalPostgres.USER, LocalPostgres.PASSWORD).close());
                assertEquals("28P01", rejected.getSQLState(), rejected.toString());
                String hba = Files.readString(data.resolve("postgres/pgdata/pg_hba.conf"));
                assertTrue(hba.contains("host all all 0.0.0.0/0 scram-sha-256"), hba);
                assertFalse(hba.contains("trust"), hba);

                // The API listens on the bind address; secrets reach the apps, but not through their command line.
                assertEquals("http://" + BIND + ":" + apiPort, stack.apiUrl());
                assertEquals(BIND, config(stack.apiUrl(), "quarkus.http.host"));
                assertEquals("k3y", config(stack.apiUrl(), "bunshin.api.key"));
                assertEquals(password, config(stack.apiUrl(), "quarkus.datasource.password"));
                for (String log : List.of("scheduler", "submitter", "worker-1")) {
                    String text = Files.readString(stack.logs().resolve(log + ".log"));
                    assertFalse(text.contains(password), log + ".log holds the password");
                    assertFalse(text.contains("k3y"), log + ".log holds the API key");
                    assertFalse(text.contains(kafkaPassword), log + ".log holds Kafka's password");
                }
                assertEquals("BUNSHIN_KAFKA_PASSWORD=" + kafkaPassword + " BUNSHIN_DB_PASSWORD=" + password
                        + " ./bunshin worker --join " + BIND + ":" + kafkaPort
                        + " --database " + url + " --model " + model.toAbsolutePath() + " --model-id tiny-model",
                        stack.joinCommand());
                ProcessHandle.current().descendants().forEach(h -> pids.add(h.pid()));
            }
            for (long pid : pids) {
                TestDirs.assertGone(pid);
            }
            String out = console.toString(StandardCharsets.UTF_8);
            assertTrue(out.contains("other machines reach this one as " + BIND + " (--bind)"), out);

            // A restart keeps the password, and the cluster still takes it.
            try (LocalStack stack = start(model, data, shared)) {
                assertEquals(password, Files.readString(data.resolve(KeptPassword.DATABASE_FILE)).strip());
                try (Connection c = DriverManager.getConnection(stack.remoteJdbcUrl(), LocalPostgres.USER, password)) {
                    assertTrue(c.isValid(5));
                }
            }
        } finally {
            if (previousHome == null) {
                System.clearProperty("bunshin.home");
            } else {
                System.setProperty("bunshin.home", previousHome);
            }
        }
    }

    @Test
    void aClusterWithAGeneratedPasswordRefusesTheDefaultOneLoudly() throws Exception {
        Path dir = TestDirs.fresh("postgres-generated");
        String generated = KeptPassword.generate();
        try (LocalPostgres postgres = LocalPostgres.start(dir, Binding.of(BIND, null), 0, dir.resolve("pg.log"),
                generated)) {
            assertTrue(postgres.jdbcUrl().startsWith("jdbc:postgresql://" + BIND + ":"), postgres.jdbcUrl());
            try (Connection c = postgres.connect()) {
                assertTrue(c.isValid(5));
            }
        }
        // The password file lost: the default password is refused, with a message saying what to do.
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> LocalPostgres.start(dir).close());
        assertTrue(e.getMessage().contains("rejects the default password"), e.getMessage());
    }

    @Test
    void aBindAddressThatIsNotThisMachinesIsNamed() {
        // 203.0.113.0/24 is TEST-NET-3, a documentation range: not an address this machine has.
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> UpOptions.parse(new String[] {"--bind", "203.0.113.254"}).binding());
        assertTrue(e.getMessage().contains("--bind 203.0.113.254: not an address of this machine"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> UpOptions.parse(new String[] {"--bind", "0.0.0.0", "--advertise", "0.0.0.0"}).binding());
    }

    @Test
    void aWildcardBindAdvertisesAHostOtherMachinesCanUse() {
        Binding b = Binding.of("0.0.0.0", null);
        assertTrue(b.shared() && b.beyondLoopback());
        assertEquals("127.0.0.1", b.localHost());
        assertNotEquals("0.0.0.0", b.advertise());
        assertTrue(List.of("canonical host name", "first non-loopback IPv4").contains(b.advertiseSource()),
                b.advertiseSource());
        assertEquals("kafka.lan", Binding.of("0.0.0.0", "kafka.lan").advertise());
        assertFalse(Binding.of("127.0.0.1", null).shared());
        assertTrue(Binding.of(BIND, null).shared());
        assertFalse(Binding.of(BIND, null).beyondLoopback());
    }

    @Test
    void theKeptPasswordIsReusedAndLoopbackAloneNeedsNone() throws Exception {
        Path dir = TestDirs.fresh("db-password");
        assertEquals(LocalPostgres.PASSWORD, KeptPassword.database(dir, false));
        String generated = KeptPassword.database(dir, true);
        assertNotEquals(LocalPostgres.PASSWORD, generated);
        assertEquals(generated, KeptPassword.database(dir, true));
        assertEquals(generated, KeptPassword.database(dir, false), "once generated, always used");
        assertNotEquals(generated, KeptPassword.generate());
    }

    private static LocalStack start(Path model, Path data, String... more) {
        return start(model, data, new ByteArrayOutputStream(), more);
    }

    private static LocalStack start(Path model, Path data, ByteArrayOutputStream console, String... more) {
        List<String> args = new ArrayList<>(List.of("--model", model.toString(), "--data-dir", data.toString(),
                "--threads", "1"));
        if (!List.of(more).contains("--port")) {
            args.addAll(List.of("--port", Integer.toString(Ports.free())));
        }
        args.addAll(List.of(more));
        return LocalStack.start(UpOptions.parse(args.toArray(String[]::new)),
                new PrintStream(console, true, StandardCharsets.UTF_8));
    }

    /**
     * A free port below the kernel's ephemeral range (32768..60999), from which {@link Ports#free()} draws the ports
     * the children pick for themselves (Kafka's controller): a port chosen here and released is not drawn again.
     */
    static int quietPort() {
        java.util.Random random = new java.util.Random();
        while (true) {
            int port = 20000 + random.nextInt(12000);
            try (java.net.ServerSocket a = new java.net.ServerSocket(port, 1, java.net.InetAddress.getByName(BIND));
                 java.net.ServerSocket b = new java.net.ServerSocket(port, 1, java.net.InetAddress.getLoopbackAddress())) {
                return port;
            } catch (java.io.IOException taken) {
                // try another
            }
        }
    }

    /** The brokers as the cluster's metadata names them to clients. */
    private static List<String> advertisedBrokers(String bootstrap, Map<String, Object> settings) throws Exception {
        Map<String, Object> config = new java.util.HashMap<>(settings);
        config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (Admin admin = Admin.create(config)) {
            Collection<Node> nodes = admin.describeCluster().nodes().get(30, TimeUnit.SECONDS);
            return nodes.stream().map(n -> n.host() + ":" + n.port()).toList();
        }
    }

    private static String config(String apiUrl, String key) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create(apiUrl + "/config?key=" + key)).build(), HttpResponse.BodyHandlers.ofString());
        return response.body();
    }
}
