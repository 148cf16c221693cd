package dev.bunshin.e2e;

import dev.bunshin.db.JobsTable;
import dev.bunshin.engine.TestModels;
import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.engine.tokenizer.Tokenizer;
import dev.bunshin.protocol.ActivationRecord;
import dev.bunshin.protocol.RecordType;
import dev.bunshin.worker.TailHarness;
import org.junit.jupiter.api.Test;

import javax.sql.DataSource;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The database fails half way through a tail batch's reads (CI caught this through SupervisedUpIT's kill -9 of
 * PostgreSQL): job A's token 0 is sampled, sent and still waiting on the store thread when a batch holding A's next
 * logits and a new job B comes; B's state cannot be read. The tail retries the batch, and must not reload A from the
 * database meanwhile (token 0 is not there yet): A goes on with token 1, B starts, and every token is stored once.
 * Before the mend, A was stepped before B's read failed, dropped from the cache, reloaded with no tokens and failed
 * with "tail got logits for generated token 1 but expected 0".
 */
class TailReadFailureTest {

    @Test
    void aReadFailingHalfWayThroughABatchLosesNoTokenStillBeingStored() throws Exception {
        Infra infra = Infra.get();
        String model = "tail-readfail-" + System.nanoTime() % 100000;
        int epoch = 3;
        try (GgufFile file = GgufFile.open(TestModels.stories260K())) {
            Tokenizer tokenizer = Tokenizer.fromGguf(file);
            int nVocab = tokenizer.vocabSize();
            int[] prompt = tokenizer.encode("Once upon a time", true, false);
            int[] chosen = tokenizer.encode(" the dog ran", false, false); // the tokens the logits pick: A's 0 and 1, B's 0
            long a = runningJob(infra.db, model, prompt, epoch);
            long b = runningJob(infra.db, model, prompt, epoch);
            Flaky flaky = new Flaky(infra.db);
            List<ActivationRecord> late = new ArrayList<>();
            try (TailHarness tail = new TailHarness(flaky.dataSource(), infra.kafka.bootstrapServers(), tokenizer, 512);
                 Connection lock = infra.db.getConnection()) {
                // A's row locked elsewhere: the tail's store of A's token 0 waits.
                lock.setAutoCommit(false);
                try (PreparedStatement ps = lock.prepareStatement("SELECT id FROM jobs WHERE id = ? FOR UPDATE")) {
                    ps.setLong(1, a);
                    ps.executeQuery().close();
                }
                List<ActivationRecord> first = tail.onLogits(List.of(new TailHarness.Input(
                        ActivationRecord.prefill(a, epoch, 0, 0, 1, prompt), logits(nVocab, chosen[0]))), epoch, late);
                assertEquals(List.of(decode(a, epoch, prompt.length, chosen[0])), summary(first));
                Thread.sleep(200);

                flaky.down.set(true);
                CompletableFuture<List<ActivationRecord>> second = CompletableFuture.supplyAsync(() -> {
                    try {
                        return tail.onLogits(List.of(
                                new TailHarness.Input(ActivationRecord.decode(a, epoch, prompt.length, chosen[0]),
                                        logits(nVocab, chosen[1])),
                                new TailHarness.Input(ActivationRecord.prefill(b, epoch, 0, 0, 1, prompt),
                                        logits(nVocab, chosen[2]))), epoch, late);
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (flaky.refused.get() < 3 && System.nanoTime() < until) Thread.sleep(10);
                assertTrue(flaky.refused.get() >= 3, "the tail tried to read B while the database was down");
                flaky.down.set(false);
                List<ActivationRecord> out = second.get(30, TimeUnit.SECONDS);
                assertEquals(List.of(decode(a, epoch, prompt.length + 1, chosen[1]), decode(b, epoch, prompt.length, chosen[2])),
                        summary(out), "A goes on from its token still being stored, B starts");

                lock.rollback(); // let the stores through
                tail.drain();
            }
            assertArrayEquals(new int[]{chosen[0], chosen[1]}, stored(infra.db, a), "A's tokens, each once");
            assertArrayEquals(new int[]{chosen[2]}, stored(infra.db, b), "B's token");
            for (long id : new long[]{a, b}) assertNull(error(infra.db, id), "job " + id + " not failed");
            synchronized (late) {
                assertTrue(late.isEmpty(), "no job was freed: " + late);
            }
        } finally {
            try (Connection c = infra.db.getConnection(); PreparedStatement ps = c.prepareStatement(
                    "UPDATE jobs SET status = 'cancelled' WHERE model = ? AND status = 'running'")) {
                ps.setString(1, model);
                ps.executeUpdate();
            }
        }
    }

    private static float[] logits(int nVocab, int token) {
        float[] l = new float[nVocab];
        l[token] = 10f;
        return l;
    }

    private static String decode(long job, int epoch, int pos, int token) {
        return RecordType.DECODE + " job " + job + " epoch " + epoch + " pos " + pos + " token " + token;
    }

    private static List<String> summary(List<ActivationRecord> records) {
        List<String> out = new ArrayList<>();
        for (ActivationRecord r : records) {
            out.add(r.type() + " job " + r.jobId() + " epoch " + r.epoch() + " pos " + r.pos()
                    + (r.type() == RecordType.DECODE ? " token " + r.tokens()[0] : ""));
        }
        return out;
    }

    private static long runningJob(DataSource db, String model, int[] prompt, int epoch) throws SQLException {
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(
                "INSERT INTO jobs (model, prompt, prompt_tokens, max_tokens, status, plan_epoch, started_at) "
                        + "VALUES (?, 'Once upon a time', ?, 8, 'running', ?, now()) RETURNING id")) {
            ps.setString(1, model);
            ps.setArray(2, c.createArrayOf("integer", Arrays.stream(prompt).boxed().toArray()));
            ps.setInt(3, epoch);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private static int[] stored(DataSource db, long id) throws SQLException {
        try (Connection c = db.getConnection()) {
            return JobsTable.generatedTokens(c, id);
        }
    }

    private static String error(DataSource db, long id) throws SQLException {
        try (Connection c = db.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT error FROM jobs WHERE id = ?")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getString(1);
            }
        }
    }

    /** A data source whose connections refuse every statement (a lost connection, 08006) while {@link #down}. */
    private static final class Flaky {
        final AtomicBoolean down = new AtomicBoolean();
        final AtomicInteger refused = new AtomicInteger();
        private final DataSource db;

        Flaky(DataSource db) {
            this.db = db;
        }

        DataSource dataSource() {
            InvocationHandler source = (proxy, m, args) -> {
                if (m.getName().equals("getConnection") && (args == null || args.length == 0)) {
                    return connection(db.getConnection());
                }
                return call(db, m, args);
            };
            return (DataSource) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[]{DataSource.class}, source);
        }

        private Connection connection(Connection real) {
            InvocationHandler h = (proxy, m, args) -> {
                if (down.get() && m.getName().startsWith("prepare")) {
                    refused.incrementAndGet();
                    throw new SQLException("connection lost (test)", "08006");
                }
                return call(real, m, args);
            };
            return (Connection) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[]{Connection.class}, h);
        }

        private static Object call(Object target, java.lang.reflect.Method m, Object[] args) throws Throwable {
            try {
                return m.invoke(target, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        }
    }
}
