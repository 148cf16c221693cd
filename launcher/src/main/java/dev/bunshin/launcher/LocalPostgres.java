package dev.bunshin.launcher;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * A real PostgreSQL 17 server (zonky's build of the binaries) running as a child process, with a persistent data
 * directory: what a run writes is there after a restart on the same directory.
 *
 * <p>It listens on 127.0.0.1 by default, with password authentication (scram-sha-256) for the superuser
 * {@value #USER}, and has a database {@value #DATABASE}. Started with another bind address, it also lets every
 * other host in with the password, once that password is the one asked for: {@code pg_hba.conf} is rewritten at
 * each start, and the remote lines are added (and the configuration reloaded) only after a cluster that still had
 * another password was given the new one.
 *
 * <p>PostgreSQL refuses to run as root. When this JVM is root, initdb and the server run as the OS user named by
 * {@code -Dbunshin.postgres.os-user} (default {@code postgres}) through {@code setpriv}, and the data directory is
 * given to that user; every directory above it must then be searchable by that user (mode o+x).
 */
public final class LocalPostgres implements AutoCloseable {

    public static final String DATABASE = "bunshin";
    public static final String USER = "bunshin";
    public static final String PASSWORD = "bunshin";

    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
    /** SQLSTATE invalid_password: the server is up, the password is wrong. */
    private static final String INVALID_PASSWORD = "28P01";

    private final ChildProcess process;
    private final int port;
    private final String host;
    private final String password;

    private LocalPostgres(ChildProcess process, int port, String host, String password) {
        this.process = process;
        this.port = port;
        this.host = host;
        this.password = password;
    }

    /** Starts PostgreSQL on a free port with its data ({@code pgdata}) and log ({@code postgres.log}) under {@code dir}. */
    public static LocalPostgres start(Path dir) {
        return start(dir, 0, dir.resolve("postgres.log"));
    }

    /**
     * Starts PostgreSQL, creating the cluster on first use, and waits until database {@value #DATABASE} accepts
     * connections.
     *
     * @param dir its home; the cluster is {@code dir/pgdata} and is kept
     * @param port the port on 127.0.0.1, or 0 for a free one
     * @param log where the server's output goes (appended)
     * @throws IllegalStateException with the tail of the log when it does not come up
     */
    public static LocalPostgres start(Path dir, int port, Path log) {
        return start(dir, Binding.LOCAL, port, log, PASSWORD);
    }

    /**
     * Starts PostgreSQL listening on {@code binding.bind()}, with {@code password} for {@value #USER}: a new
     * cluster gets it at initdb; an existing one that still has another password (the default {@value #PASSWORD})
     * is switched to it before any remote host is let in.
     *
     * @param port the port, or 0 for a free one
     */
    public static LocalPostgres start(Path dir, Binding binding, int port, Path log, String password) {
        Objects.requireNonNull(dir, "dir == null");
        Objects.requireNonNull(binding, "binding == null");
        Objects.requireNonNull(password, "password == null");
        Path home = dir.toAbsolutePath();
        Path pgdata = home.resolve("pgdata");
        int serverPort = Ports.orFree(port);
        Path bin = PostgresBinaries.installation().resolve("bin");
        List<String> asUser = runAsPrefix();
        try {
            Files.createDirectories(home);
            if (!asUser.isEmpty()) {
                handOver(home, log);
            }
            if (!Files.exists(pgdata.resolve("PG_VERSION"))) {
                initdb(bin, home, pgdata, log, asUser, password);
            }
            checkNoServerLeft(pgdata);
            // This machine only, until the password is known to be the one asked for.
            writeHba(pgdata, binding, false);
            List<String> server = new ArrayList<>(asUser);
            server.addAll(List.of(bin.resolve("postgres").toString(), "-D", pgdata.toString(),
                    "-p", Integer.toString(serverPort),
                    "-c", "listen_addresses=" + binding.bind(),
                    // No unix socket: the system's /var/run/postgresql may belong to another server or not exist.
                    "-c", "unix_socket_directories=",
                    "-c", "max_connections=200",
                    "-c", "shared_buffers=64MB",
                    "-c", "logging_collector=off"));
            // SIGINT is PostgreSQL's "fast" shutdown: SIGTERM ("smart") would wait for every client to leave.
            ChildProcess child = ChildProcess.start("postgres", server, home, Map.of("LC_ALL", "C"), log, "INT",
                    Duration.ofSeconds(30));
            LocalPostgres postgres = new LocalPostgres(child, serverPort, binding.localHost(), password);
            try {
                postgres.awaitReady();
                postgres.createDatabase();
                if (binding.shared()) {
                    writeHba(pgdata, binding, true);
                    postgres.reloadConfig();
                }
            } catch (RuntimeException e) {
                child.close();
                throw e;
            }
            return postgres;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare PostgreSQL in " + home, e);
        }
    }

    /** {@code jdbc:postgresql://<this machine's address of it>:port/bunshin} (127.0.0.1 by default). */
    public String jdbcUrl() {
        return jdbcUrl(DATABASE);
    }

    public String jdbcUrl(String database) {
        return "jdbc:postgresql://" + Binding.hostPort(host, port) + "/" + database;
    }

    public String user() {
        return USER;
    }

    public String password() {
        return password;
    }

    public int port() {
        return port;
    }

    /** A new connection to database {@value #DATABASE}; the caller closes it. */
    public Connection connect() throws SQLException {
        return DriverManager.getConnection(jdbcUrl(), USER, password);
    }

    /** The pid of the process we started (a {@code setpriv} exec'd into the postmaster, or the postmaster). */
    public long pid() {
        return process.pid();
    }

    /** The pids of the server's processes now (postmaster and backends). */
    public List<Long> pids() {
        return process.pids();
    }

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

    /** Fast shutdown (rolls back open transactions, checkpoints), killing it after 30 s. */
    @Override
    public void close() {
        process.close();
    }

    private static void initdb(Path bin, Path home, Path pgdata, Path log, List<String> asUser, String password)
            throws IOException {
        Path pwfile = home.resolve("initdb.pw");
        Files.deleteIfExists(pwfile);
        Files.createFile(pwfile, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
        Files.writeString(pwfile, password + "\n");
        try {
            if (!asUser.isEmpty()) {
                handOver(pwfile, null);
            }
            List<String> command = new ArrayList<>(asUser);
            command.addAll(List.of(bin.resolve("initdb").toString(), "-D", pgdata.toString(),
                    "-U", USER, "--pwfile=" + pwfile, "-A", "scram-sha-256", "-E", "UTF8", "--locale=C",
                    "--no-instructions"));
            ChildProcess.runToCompletion("initdb", command, home, log, Duration.ofSeconds(120));
        } finally {
            Files.deleteIfExists(pwfile);
        }
    }

    /**
     * Fails with what to do when a server still runs on {@code pgdata} (its {@code postmaster.pid} names a live
     * postgres process): one left by a launcher killed before children died with it, or started by hand. A
     * {@code postmaster.pid} whose process is gone is stale, and PostgreSQL itself replaces it.
     */
    static void checkNoServerLeft(Path pgdata) throws IOException {
        Path pidFile = pgdata.resolve("postmaster.pid");
        if (!Files.isReadable(pidFile)) {
            return;
        }
        List<String> lines = Files.readAllLines(pidFile);
        if (lines.isEmpty() || !lines.getFirst().strip().matches("\\d+")) {
            return;
        }
        long pid = Long.parseLong(lines.getFirst().strip());
        ProcessHandle.of(pid).filter(ProcessHandle::isAlive)
                .filter(h -> h.info().command().map(c -> c.endsWith("postgres")).orElse(true))
                .ifPresent(h -> {
                    throw new IllegalStateException("PostgreSQL (pid " + pid + ") still runs on " + pgdata
                            + ", left over from an earlier run: stop it with `kill -INT " + pid + "` (a fast"
                            + " shutdown; the data stays), then start again");
                });
    }

    private void awaitReady() {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        SQLException last = null;
        while (System.nanoTime() < deadline) {
            process.checkAlive();
            if (Ports.isOpen(host, port)) {
                try (Connection c = login(password)) {
                    return;
                } catch (SQLException e) {
                    if (INVALID_PASSWORD.equals(e.getSQLState()) && !password.equals(PASSWORD)) {
                        adoptPassword(); // a cluster made before a password was chosen for it
                        return;
                    }
                    if (INVALID_PASSWORD.equals(e.getSQLState())) {
                        throw new IllegalStateException("PostgreSQL on port " + port + " rejects the"
                                + " default password: it was given a generated one (" + KeptPassword.DATABASE_FILE
                                + " in the data directory); put that file back, or start with a fresh data directory");
                    }
                    last = e; // "the database system is starting up"
                }
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for PostgreSQL", e);
            }
        }
        throw new IllegalStateException("PostgreSQL did not accept connections within " + START_TIMEOUT
                + " on port " + port + (last == null ? "" : " (" + last.getMessage() + ")") + "; log "
                + process.log() + ":\n" + process.tail(40));
    }

    /**
     * A connection to database {@code postgres}, giving up after 10 s: whatever answers on the port (another
     * server that took it first) must not hang the start.
     */
    private Connection login(String password) throws SQLException {
        java.util.Properties props = new java.util.Properties();
        props.setProperty("user", USER);
        props.setProperty("password", password);
        props.setProperty("loginTimeout", "10");
        return DriverManager.getConnection(jdbcUrl("postgres"), props);
    }

    /** Logs in with the default password and sets the asked-for one; fails loudly if neither is the cluster's. */
    private void adoptPassword() {
        // Not a bind parameter: ALTER ROLE takes none. Only our own [A-Za-z0-9] passwords are spliced in.
        if (!password.matches("[A-Za-z0-9]+")) {
            throw new IllegalStateException("PostgreSQL on port " + port + " rejects the password kept for it");
        }
        try (Connection c = login(PASSWORD);
             Statement alter = c.createStatement()) {
            alter.execute("ALTER ROLE " + USER + " PASSWORD '" + password + "'");
        } catch (SQLException e) {
            throw new IllegalStateException("PostgreSQL on port " + port + " accepts neither the password kept for it"
                    + " nor the default one (" + e.getMessage() + ")", e);
        }
    }

    private void reloadConfig() {
        try (Connection c = connect(); Statement reload = c.createStatement()) {
            reload.execute("SELECT pg_reload_conf()");
        } catch (SQLException e) {
            throw new IllegalStateException("cannot reload PostgreSQL's configuration on port " + port, e);
        }
    }

    /**
     * Loopback, and the bind address itself (this machine connects through it when it is a specific IP); with
     * {@code remote}, every other host too. Every line asks for the password (scram-sha-256).
     */
    private static void writeHba(Path pgdata, Binding binding, boolean remote) throws IOException {
        StringBuilder hba = new StringBuilder("""
                # Written by dev.bunshin.launcher.LocalPostgres at every start; edits are overwritten.
                host all all 127.0.0.0/8 scram-sha-256
                host all all ::1/128 scram-sha-256
                """);
        String bind = binding.localHost();
        if (binding.shared() && !bind.equals(Binding.LOOPBACK)) {
            hba.append("host all all ").append(bind).append(bind.contains(":") ? "/128" : "/32")
                    .append(" scram-sha-256\n");
        }
        if (remote) {
            hba.append("host all all 0.0.0.0/0 scram-sha-256\n");
            hba.append("host all all ::/0 scram-sha-256\n");
        }
        // Truncating keeps the file's owner: as root, the server's OS user must still read it.
        Files.writeString(pgdata.resolve("pg_hba.conf"), hba);
    }

    private void createDatabase() {
        try (Connection c = login(password);
             PreparedStatement exists = c.prepareStatement("SELECT 1 FROM pg_database WHERE datname = ?")) {
            exists.setString(1, DATABASE);
            try (ResultSet rs = exists.executeQuery()) {
                if (rs.next()) {
                    return;
                }
            }
            try (Statement create = c.createStatement()) {
                create.execute("CREATE DATABASE " + DATABASE);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create database " + DATABASE + " on port " + port, e);
        }
    }

    /** Empty when we are not root; else the command that runs the rest as the PostgreSQL OS user. */
    private static List<String> runAsPrefix() {
        if (!isRoot()) {
            return List.of();
        }
        String user = osUser();
        // setpriv execs the server directly (runuser and su fork and sit in between): the pid we hold is the
        // postmaster's, so our signals reach it.
        if (Files.isExecutable(Path.of("/usr/bin/setpriv")) || Files.isExecutable(Path.of("/bin/setpriv"))) {
            return List.of("setpriv", "--reuid=" + user, "--regid=" + user, "--init-groups", "--");
        }
        return List.of("runuser", "-u", user, "--");
    }

    static boolean isRoot() {
        try {
            Object uid = Files.getAttribute(Path.of("/proc/self"), "unix:uid");
            return uid instanceof Integer i && i == 0;
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return "root".equals(System.getProperty("user.name"));
        }
    }

    private static String osUser() {
        return System.getProperty("bunshin.postgres.os-user", "postgres");
    }

    /**
     * Gives {@code path} (recursively) to the PostgreSQL OS user, and checks that user can reach it: a data dir
     * under a mode-700 directory (a JUnit @TempDir, /root) is unreachable for it.
     */
    private static void handOver(Path path, Path keepRootOwned) throws IOException {
        String user = osUser();
        UserPrincipalLookupService lookup = path.getFileSystem().getUserPrincipalLookupService();
        UserPrincipal owner;
        GroupPrincipal group;
        try {
            owner = lookup.lookupPrincipalByName(user);
            group = lookup.lookupPrincipalByGroupName(user);
        } catch (java.nio.file.attribute.UserPrincipalNotFoundException e) {
            throw new IllegalStateException("running as root, PostgreSQL needs an unprivileged OS user '" + user
                    + "' (create it, or pick one with -Dbunshin.postgres.os-user=NAME)", e);
        }
        for (Path dir = path.toAbsolutePath().getParent(); dir != null; dir = dir.getParent()) {
            if (!Files.getPosixFilePermissions(dir).contains(PosixFilePermission.OTHERS_EXECUTE)) {
                throw new IllegalStateException("running as root, PostgreSQL runs as OS user '" + user
                        + "', who cannot enter " + dir + " (mode "
                        + java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(dir))
                        + "): choose a data directory outside it, or chmod o+x it");
            }
        }
        try (Stream<Path> paths = Files.walk(path)) {
            for (Path p : (Iterable<Path>) paths::iterator) {
                if (keepRootOwned != null && p.toAbsolutePath().equals(keepRootOwned.toAbsolutePath())) {
                    continue;
                }
                PosixFileAttributeView view = Files.getFileAttributeView(p, PosixFileAttributeView.class,
                        java.nio.file.LinkOption.NOFOLLOW_LINKS);
                view.setOwner(owner);
                view.setGroup(group);
            }
        }
    }
}
