package dev.bunshin.cli;

import dev.bunshin.db.JobsTable;
import dev.bunshin.db.PgListener;
import dev.bunshin.launcher.LocalKafka;
import dev.bunshin.launcher.LocalPostgres;
import dev.bunshin.protocol.events.Event;
import dev.bunshin.protocol.events.EventCodec;
import dev.bunshin.protocol.events.EventPublisher;
import dev.bunshin.protocol.events.JobEvent;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.flywaydb.core.Flyway;
import org.postgresql.ds.PGSimpleDataSource;

import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code ./bunshin bench events [--rates 1000,4000,max] [--tails 2] [--jobs 32] [--seconds 8] [--reps 3] [--json]}:
 * how streams learn of new tokens, two ways side by side on one real PostgreSQL and one real Kafka, with synthetic
 * tails writing tokens through the tail's own SQL ({@link JobsTable#appendTokens}, one transaction per engine call
 * holding one token per job):
 * <ul>
 *   <li>{@code notify}: the V11 triggers (a NOTIFY per token insert and status change, dropped by V19); one LISTEN
 *   connection wakes the job's stream, which reads its new tokens with TokenFeed's statement;</li>
 *   <li>{@code kafka}: no trigger; after each commit the tail publishes the transaction's tokens
 *   ({@link EventPublisher}, as TailStage does) and one consumer hands them to the streams, no read.</li>
 * </ul>
 * One stream follows each job. Per mode and rate: tokens committed per second, commit time p50/p99 (the tail's
 * transaction), delivery time p50/p99 (commit to stream), and CPU seconds per 1,000 tokens of PostgreSQL, Kafka and
 * this process (tails + streams). Modes alternate within each repetition; medians over repetitions.
 */
final class EventsBench {
    private EventsBench() {}

    private static final String[] MODES = {"notify", "kafka"};

    /** One measured run. */
    record Run(String mode, int targetRate, double committedPerSec, double commitP50, double commitP99,
               double deliverP50, double deliverP99, double pgCpuPer1k, double kafkaCpuPer1k, double ownCpuPer1k,
               long committed, long delivered) {}

    static int run(String[] argv, PrintStream out, PrintStream err) throws Exception {
        Args a = Args.parse("bench events", argv, Set.of("rates", "tails", "jobs", "seconds", "reps"), Set.of("json"));
        a.noMorePositional(0);
        int[] rates = rates(a.get("rates", "1000,4000,max"));
        int tails = a.getInt("tails", 2, 1);
        int jobs = a.getInt("jobs", 32, 1);
        int seconds = a.getInt("seconds", 8, 1);
        int reps = a.getInt("reps", 3, 1);
        if (jobs < tails) throw new UsageException("bench events: --jobs " + jobs + " must be at least --tails " + tails);
        err.printf("bench events: %d tails, %d jobs (one stream each), %d s per run, %d reps; cpu: %s%n", tails, jobs,
                seconds, reps, ClusterBench.cpuFlags());

        Path dir = Files.createTempDirectory("bunshin-bench-events",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx--x--x")));
        try (LocalPostgres pg = LocalPostgres.start(dir.resolve("postgres"));
             LocalKafka kafka = LocalKafka.start(dir.resolve("kafka"))) {
            PGSimpleDataSource db = new PGSimpleDataSource();
            db.setUrl(pg.jdbcUrl());
            db.setUser(pg.user());
            db.setPassword(pg.password());
            Flyway.configure().dataSource(db).locations("classpath:db/migration").load().migrate();
            Map<String, List<Run>> runs = new LinkedHashMap<>();
            for (int rep = 0; rep < reps; rep++) {
                for (int rate : rates) {
                    // Alternate which mode goes first, so neither always runs on a warmer machine.
                    for (int m = 0; m < MODES.length; m++) {
                        String mode = MODES[(m + rep) % MODES.length];
                        Run r = measure(mode, rate, tails, jobs, seconds, db, pg, kafka);
                        err.printf(Locale.ROOT, "  rep %d %-6s %5s: %7.0f tok/s committed, commit p50 %.2f ms, "
                                        + "delivery p50 %.2f / p99 %.2f ms, cpu/1k tok pg %.3f kafka %.3f own %.3f s%s%n",
                                rep + 1, mode, label(rate), r.committedPerSec(), r.commitP50(), r.deliverP50(),
                                r.deliverP99(), r.pgCpuPer1k(), r.kafkaCpuPer1k(), r.ownCpuPer1k(),
                                r.delivered() == r.committed() ? "" : "  (" + (r.committed() - r.delivered()) + " LOST)");
                        runs.computeIfAbsent(mode + "@" + rate, k -> new ArrayList<>()).add(r);
                    }
                }
            }
            print(runs, rates, a.flag("json"), out);
            return 0;
        } finally {
            deleteTree(dir);
        }
    }

    private static int[] rates(String s) {
        String[] parts = s.split(",");
        int[] r = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            String p = parts[i].trim();
            if (p.equals("max")) continue; // 0: as fast as the tails go
            try {
                r[i] = Integer.parseInt(p);
            } catch (NumberFormatException e) {
                throw new UsageException("bench events: --rates takes tokens per second or max, comma-separated: " + s);
            }
            if (r[i] <= 0) throw new UsageException("bench events: --rates must be positive: " + p);
        }
        return r;
    }

    private static String label(int rate) {
        return rate == 0 ? "max" : Integer.toString(rate);
    }

    /** Commit times, keyed by job and position, for the streams to time delivery against. */
    private static long key(long job, int position) {
        return job << 24 | position;
    }

    private static Run measure(String mode, int rate, int tails, int nJobs, int seconds, PGSimpleDataSource db,
                               LocalPostgres pg, LocalKafka kafka) throws Exception {
        boolean notify = mode.equals("notify");
        long[] jobs = freshJobs(db, nJobs, notify);
        ConcurrentHashMap<Long, Long> committedAt = new ConcurrentHashMap<>();
        List<Double> deliveries = java.util.Collections.synchronizedList(new ArrayList<>());
        AtomicLong delivered = new AtomicLong();
        Map<Long, Stream> streams = new LinkedHashMap<>();
        for (long job : jobs) streams.put(job, new Stream(job, notify ? db : null, committedAt, deliveries, delivered));
        AtomicBoolean stop = new AtomicBoolean();
        List<Thread> threads = new ArrayList<>();
        for (Stream s : streams.values()) threads.add(Thread.ofPlatform().name("stream-" + s.job).start(s::run));

        AutoCloseable source;
        if (notify) {
            PgListener l = new PgListener(db, "bench-events", List.of(PgListener.JOB_EVENTS), (channel, payload) -> {
                if (channel == null) return;
                Stream s = streams.get(Long.parseLong(payload));
                if (s != null) s.wake(null);
            });
            for (int i = 0; i < 500 && !l.listening(); i++) Thread.sleep(10);
            source = l;
        } else {
            source = consumer(kafka.bootstrapServers(), streams, stop);
        }

        EventPublisher publisher = notify ? null : new EventPublisher(kafka.bootstrapServers());
        List<Double> commits = java.util.Collections.synchronizedList(new ArrayList<>());
        AtomicLong committed = new AtomicLong();
        Map<String, Long> pids = new LinkedHashMap<>();
        pids.put("pg", pg.pid());
        pids.put("kafka", kafka.pid());
        Map<String, Double> cpu0 = ProcessCpu.snapshot(pids);
        double own0 = ownCpu();
        long t0 = System.nanoTime();
        long end = t0 + seconds * 1_000_000_000L;
        List<Thread> writers = new ArrayList<>();
        for (int w = 0; w < tails; w++) {
            List<Long> mine = new ArrayList<>();
            for (int i = w; i < jobs.length; i += tails) mine.add(jobs[i]);
            // Each tail commits one token per job per transaction, like one engine call of a batch of its jobs.
            double perTail = rate == 0 ? 0 : (double) rate / tails;
            long intervalNanos = rate == 0 ? 0 : (long) (mine.size() / perTail * 1e9);
            writers.add(Thread.ofPlatform().name("tail-" + w).start(() -> tail(db, mine, intervalNanos, end,
                    publisher, committedAt, commits, committed)));
        }
        for (Thread t : writers) t.join();
        double elapsed = (System.nanoTime() - t0) / 1e9;
        // Let the streams catch up on what was committed (bounded), then stop everything.
        for (int i = 0; i < 300 && delivered.get() < committed.get(); i++) Thread.sleep(10);
        Map<String, Double> cpu = ProcessCpu.delta(cpu0, ProcessCpu.snapshot(pids));
        double own = ownCpu() - own0;
        stop.set(true);
        if (publisher != null) publisher.close();
        source.close();
        for (Stream s : streams.values()) s.stop();
        for (Thread t : threads) t.join(5_000);
        double k = committed.get() / 1000.0;
        return new Run(mode, rate, committed.get() / elapsed, percentile(commits, 50), percentile(commits, 99),
                percentile(deliveries, 50), percentile(deliveries, 99), cpu.get("pg") / k, cpu.get("kafka") / k, own / k,
                committed.get(), delivered.get());
    }

    /** Running jobs for one run, with the notify triggers installed (notify) or not (kafka). */
    private static long[] freshJobs(PGSimpleDataSource db, int n, boolean notify) throws SQLException {
        try (Connection c = db.getConnection(); Statement st = c.createStatement()) {
            st.execute("DELETE FROM jobs");
            st.execute("DROP TRIGGER IF EXISTS job_tokens_notify ON job_tokens");
            st.execute("DROP TRIGGER IF EXISTS jobs_status_notify ON jobs");
            st.execute("DROP FUNCTION IF EXISTS bunshin_notify_job_event()");
            if (notify) {
                // V11 as it was, on the same channel.
                st.execute("""
                        CREATE FUNCTION bunshin_notify_job_event() RETURNS trigger LANGUAGE plpgsql AS $$
                        BEGIN
                            PERFORM pg_notify('%s', to_jsonb(NEW) ->> TG_ARGV[0]);
                            RETURN NULL;
                        END
                        $$""".formatted(PgListener.JOB_EVENTS));
                st.execute("CREATE TRIGGER job_tokens_notify AFTER INSERT ON job_tokens FOR EACH ROW "
                        + "EXECUTE FUNCTION bunshin_notify_job_event('job_id')");
                st.execute("CREATE TRIGGER jobs_status_notify AFTER UPDATE OF status ON jobs FOR EACH ROW "
                        + "WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION bunshin_notify_job_event('id')");
            }
            long[] ids = new long[n];
            try (PreparedStatement ps = c.prepareStatement("""
                    INSERT INTO jobs (model, prompt, prompt_tokens, max_tokens, status, started_at)
                    VALUES ('bench', 'bench', '{1}', 1000000, 'running', now()) RETURNING id""")) {
                for (int i = 0; i < n; i++) {
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        ids[i] = rs.getLong(1);
                    }
                }
            }
            return ids;
        }
    }

    /** One tail: a transaction per step holding one token for each of its jobs, paced to the rate. */
    private static void tail(PGSimpleDataSource db, List<Long> jobs, long intervalNanos, long end,
                             EventPublisher publisher, Map<Long, Long> committedAt, List<Double> commits,
                             AtomicLong committed) {
        try (Connection c = db.getConnection()) {
            c.setAutoCommit(false);
            long next = System.nanoTime();
            for (int position = 0; System.nanoTime() < end; position++) {
                List<JobsTable.Token> tokens = new ArrayList<>(jobs.size());
                for (long job : jobs) tokens.add(new JobsTable.Token(job, position, 1000 + position, " w" + position,
                        null, null));
                long t0 = System.nanoTime();
                JobsTable.lockInIdOrder(c, jobs);
                JobsTable.appendTokens(c, tokens);
                c.commit();
                long t1 = System.nanoTime();
                commits.add((t1 - t0) / 1e6);
                for (long job : jobs) committedAt.put(key(job, position), t1);
                committed.addAndGet(jobs.size());
                if (publisher != null) {
                    List<JobEvent> events = new ArrayList<>(jobs.size());
                    for (JobsTable.Token t : tokens) events.add(new JobEvent(t.jobId(), "running", null,
                            List.of(new JobEvent.Token(t.position(), t.tokenId(), t.text()))));
                    publisher.publishAll(events);
                }
                if (intervalNanos > 0) {
                    next += intervalNanos;
                    long sleep = next - System.nanoTime();
                    if (sleep > 0) Thread.sleep(sleep / 1_000_000, (int) (sleep % 1_000_000));
                }
            }
        } catch (SQLException | InterruptedException e) {
            throw new IllegalStateException("bench tail: " + e, e);
        }
    }

    /** The kafka mode's one consumer (the submitter's): hands each event's tokens to its job's stream. */
    private static AutoCloseable consumer(String bootstrap, Map<Long, Stream> streams, AtomicBoolean stop)
            throws InterruptedException {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "bench-events-" + UUID.randomUUID());
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer());
        consumer.subscribe(List.of(EventPublisher.TOPIC));
        // Join the group before the tails start: "latest" would skip what came before the assignment.
        for (int i = 0; i < 300 && consumer.assignment().isEmpty(); i++) consumer.poll(Duration.ofMillis(100));
        if (consumer.assignment().isEmpty()) throw new IllegalStateException("no partitions of " + EventPublisher.TOPIC);
        Thread t = Thread.ofPlatform().name("bench-events-consumer").start(() -> {
            while (!stop.get()) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(100))) {
                    for (Event e : EventCodec.decode(r.value())) {
                        if (e instanceof JobEvent j) {
                            Stream s = streams.get(j.job());
                            if (s != null) s.wake(j);
                        }
                    }
                }
            }
            consumer.close();
        });
        return () -> t.join(5_000);
    }

    /** A stream following one job: notify mode reads its new tokens per wake-up, kafka mode takes them from events. */
    private static final class Stream {
        final long job;
        private final PGSimpleDataSource db;
        private final Map<Long, Long> committedAt;
        private final List<Double> deliveries;
        private final AtomicLong delivered;
        private final LinkedBlockingQueue<Object> wakes = new LinkedBlockingQueue<>();
        private volatile boolean running = true;
        private int next;

        Stream(long job, PGSimpleDataSource db, Map<Long, Long> committedAt, List<Double> deliveries, AtomicLong delivered) {
            this.job = job;
            this.db = db;
            this.committedAt = committedAt;
            this.deliveries = deliveries;
            this.delivered = delivered;
        }

        void wake(JobEvent event) {
            wakes.add(event != null ? event : Boolean.TRUE);
        }

        void stop() {
            running = false;
            wakes.add(Boolean.FALSE);
        }

        void run() {
            try (Connection c = db != null ? db.getConnection() : null) {
                while (running) {
                    Object w = wakes.poll(1, TimeUnit.SECONDS);
                    if (w == null || w == Boolean.FALSE) continue;
                    if (w instanceof JobEvent e) {
                        for (JobEvent.Token t : e.tokens()) if (t.position() == next) got(t.position());
                    } else {
                        wakes.removeIf(x -> x == Boolean.TRUE); // one read serves every wake-up so far
                        read(c);
                    }
                }
            } catch (SQLException | InterruptedException e) {
                if (running) throw new IllegalStateException("bench stream " + job + ": " + e, e);
            }
        }

        /** TokenFeed's statement: the job's row and its tokens from {@code next}. */
        private void read(Connection c) throws SQLException {
            try (PreparedStatement ps = c.prepareStatement("""
                    SELECT j.status, t.position FROM jobs j
                      LEFT JOIN LATERAL (SELECT position, token_id, text FROM job_tokens
                                          WHERE job_id = j.id AND position >= ? ORDER BY position LIMIT 512) t ON true
                     WHERE j.id = ? ORDER BY t.position""")) {
                ps.setInt(1, next);
                ps.setLong(2, job);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        int p = rs.getInt(2);
                        if (!rs.wasNull() && p == next) got(p);
                    }
                }
            }
        }

        private void got(int position) {
            long now = System.nanoTime();
            Long at = committedAt.get(key(job, position));
            deliveries.add(at == null ? 0.0 : Math.max(0, (now - at) / 1e6)); // null: seen before the tail timed it
            next = position + 1;
            delivered.incrementAndGet();
        }
    }

    private static double ownCpu() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime() / 1e9;
    }

    private static double percentile(List<Double> values, int p) {
        double[] v;
        synchronized (values) {
            v = values.stream().mapToDouble(Double::doubleValue).toArray();
        }
        if (v.length == 0) return Double.NaN;
        Arrays.sort(v);
        return v[Math.min(v.length - 1, (int) Math.ceil(p / 100.0 * v.length) - 1)];
    }

    private static double median(List<Run> runs, java.util.function.ToDoubleFunction<Run> f) {
        double[] v = runs.stream().mapToDouble(f).sorted().toArray();
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    private static void print(Map<String, List<Run>> runs, int[] rates, boolean json, PrintStream out) {
        if (json) {
            StringBuilder sb = new StringBuilder("{\"rows\":[");
            boolean first = true;
            for (int rate : rates) {
                for (String mode : MODES) {
                    List<Run> rs = runs.get(mode + "@" + rate);
                    if (!first) sb.append(',');
                    first = false;
                    sb.append(String.format(Locale.ROOT, "{\"mode\":\"%s\",\"rate\":\"%s\",\"committed_tok_s\":%.1f,"
                                    + "\"commit_p50_ms\":%.3f,\"commit_p99_ms\":%.3f,\"delivery_p50_ms\":%.3f,"
                                    + "\"delivery_p99_ms\":%.3f,\"pg_cpu_s_per_1k\":%.4f,\"kafka_cpu_s_per_1k\":%.4f,"
                                    + "\"own_cpu_s_per_1k\":%.4f,\"lost\":%d}",
                            mode, label(rate), median(rs, Run::committedPerSec), median(rs, Run::commitP50),
                            median(rs, Run::commitP99), median(rs, Run::deliverP50), median(rs, Run::deliverP99),
                            median(rs, Run::pgCpuPer1k), median(rs, Run::kafkaCpuPer1k), median(rs, Run::ownCpuPer1k),
                            rs.stream().mapToLong(r -> r.committed() - r.delivered()).sum()));
                }
            }
            out.println(sb.append("]}"));
            return;
        }
        List<String[]> t = new ArrayList<>();
        t.add(new String[] {"rate", "mode", "tok/s committed", "commit p50/p99 ms", "delivery p50/p99 ms",
                "cpu s/1k tok pg+kafka+own", "lost"});
        for (int rate : rates) {
            for (String mode : MODES) {
                List<Run> rs = runs.get(mode + "@" + rate);
                t.add(new String[] {label(rate), mode, String.format(Locale.ROOT, "%.0f", median(rs, Run::committedPerSec)),
                        String.format(Locale.ROOT, "%.2f / %.2f", median(rs, Run::commitP50), median(rs, Run::commitP99)),
                        String.format(Locale.ROOT, "%.2f / %.2f", median(rs, Run::deliverP50), median(rs, Run::deliverP99)),
                        String.format(Locale.ROOT, "%.3f + %.3f + %.3f", median(rs, Run::pgCpuPer1k),
                                median(rs, Run::kafkaCpuPer1k), median(rs, Run::ownCpuPer1k)),
                        Long.toString(rs.stream().mapToLong(r -> r.committed() - r.delivered()).sum())});
            }
        }
        Table.print(t, out);
        for (int rate : rates) {
            List<Run> n = runs.get("notify@" + rate);
            List<Run> k = runs.get("kafka@" + rate);
            out.printf(Locale.ROOT, "rate %s: kafka / notify: committed tok/s %.2fx, delivery p50 %.2fx, "
                            + "pg cpu per token %.2fx, all cpu per token %.2fx%n", label(rate),
                    median(k, Run::committedPerSec) / median(n, Run::committedPerSec),
                    median(k, Run::deliverP50) / median(n, Run::deliverP50),
                    median(k, Run::pgCpuPer1k) / median(n, Run::pgCpuPer1k),
                    median(k, r -> r.pgCpuPer1k() + r.kafkaCpuPer1k() + r.ownCpuPer1k())
                            / median(n, r -> r.pgCpuPer1k() + r.kafkaCpuPer1k() + r.ownCpuPer1k()));
        }
    }

    private static void deleteTree(Path dir) {
        try (var s = Files.walk(dir)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (Exception ignored) {
            // a temp dir; the OS cleans it eventually
        }
    }
}
