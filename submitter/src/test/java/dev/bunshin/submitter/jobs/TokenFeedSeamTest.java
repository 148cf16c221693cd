package dev.bunshin.submitter.jobs;

import dev.bunshin.db.JobsTable;
import dev.bunshin.protocol.events.JobEvent;
import dev.bunshin.submitter.TestKafka;
import dev.bunshin.submitter.TestPostgres;
import io.agroal.api.AgroalDataSource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import javax.sql.DataSource;
import java.io.PrintWriter;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The seam between the database and the live events, where a stream could lose or repeat a token: it reads
 * PostgreSQL first and then follows events. Each case puts a committed token's event before, during or after that
 * read (or loses one), and the stream must deliver every position once, in order. Polls are slow (10 s) so that a
 * token arriving in time came from its event, not from a poll.
 */
@QuarkusTest
@WithTestResource(TestPostgres.class)
@WithTestResource(TestKafka.class)
class TokenFeedSeamTest {

    static final long SLOW_MS = 10_000;

    @Inject
    AgroalDataSource db;

    /** What one {@link TokenFeed#follow} call delivered, and how it ended. */
    record Followed(List<Integer> positions, List<String> texts, TokenFeed.End end, long millis) {}

    private long runningJob() throws SQLException {
        long id = given().contentType(ContentType.JSON).body("{\"prompt\":\"Once upon a time\",\"max_tokens\":50}")
                .post("/v1/jobs").then().statusCode(202).extract().jsonPath().getLong("id");
        try (Connection c = db.getConnection()) {
            JobsTable.start(c, List.of(id), 0);
        }
        return id;
    }

    /** The tail's commit of one token (not the last): one transaction, as the tail's. */
    private void store(long job, int position) {
        try (Connection c = db.getConnection()) {
            c.setAutoCommit(false);
            JobsTable.appendTokens(c, List.of(new JobsTable.Token(job, position, 100 + position, text(position), null, null)));
            c.commit();
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The tail's commit of the last token, ending the job. */
    private void storeLast(long job, int position) throws SQLException {
        try (Connection c = db.getConnection()) {
            c.setAutoCommit(false); // the token and the job's end in one transaction, as the tail commits them
            JobsTable.appendTokens(c, List.of(new JobsTable.Token(job, position, 100 + position, text(position), "stop",
                    "whole text")));
            c.commit();
        }
    }

    private static String text(int position) {
        return " t" + position;
    }

    private static JobEvent event(long job, int... positions) {
        return event(job, "running", positions);
    }

    private static JobEvent event(long job, String status, int... positions) {
        List<JobEvent.Token> tokens = new java.util.ArrayList<>();
        for (int p : positions) tokens.add(new JobEvent.Token(p, 100 + p, text(p)));
        return new JobEvent(job, status, status.equals("completed") ? "stop" : null, tokens);
    }

    /** A feed over {@code source}, with its own events (connected), polling only every 10 s. */
    private static TokenFeed feed(DataSource source, JobEvents events) {
        events.connected(true);
        return new TokenFeed(source, events, SLOW_MS, SLOW_MS, 60_000);
    }

    private static CompletableFuture<Followed> follow(TokenFeed feed, long job) {
        return follow(feed, job, new CopyOnWriteArrayList<>());
    }

    /** Follows in the background; {@code positions} fills as tokens are delivered. */
    private static CompletableFuture<Followed> follow(TokenFeed feed, long job, List<Integer> positions) {
        return CompletableFuture.supplyAsync(() -> {
            List<String> texts = new CopyOnWriteArrayList<>();
            long t0 = System.nanoTime();
            try {
                TokenFeed.End end = feed.follow(job, -1, t -> {
                    positions.add(t.position());
                    texts.add(t.text());
                });
                return new Followed(positions, texts, end, (System.nanoTime() - t0) / 1_000_000);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }

    /** Waits until the feed has opened its watch and made its first read (its connection closed). */
    private static void awaitFirstRead(Hooked source) throws InterruptedException {
        for (int i = 0; i < 500 && source.closed == 0; i++) Thread.sleep(10);
        assertTrue(source.closed > 0, "the feed read the database");
    }

    @Test
    void anEventOfATokenTheReadAlreadySawIsNotDeliveredTwice() throws Exception {
        long job = runningJob();
        JobEvents events = new JobEvents();
        // During the read: the token commits and its event is queued after the watch opened but before the
        // statement ran, so the read returns the row AND the event waits in the queue.
        Hooked source = new Hooked(db, () -> {
            store(job, 0);
            events.deliver(event(job, 0));
        }, null);
        CompletableFuture<Followed> f = follow(feed(source, events), job);
        awaitFirstRead(source);
        store(job, 1);
        events.deliver(event(job, 1)); // after the read
        storeLast(job, 2);
        events.deliver(event(job, "completed", 2));
        Followed got = f.get(SLOW_MS / 2, TimeUnit.MILLISECONDS);
        assertEquals(List.of(0, 1, 2), got.positions());
        assertEquals(List.of(" t0", " t1", " t2"), got.texts());
        assertEquals("completed", got.end().status());
        assertEquals("whole text", got.end().text());
    }

    @Test
    void aTokenCommittedBeforeTheStreamStartsComesFromTheDatabaseAndLaterOnesFromEvents() throws Exception {
        long job = runningJob();
        JobEvents events = new JobEvents();
        store(job, 0);
        events.deliver(event(job, 0)); // before: nobody watches yet, the event is gone
        Hooked source = new Hooked(db, null, null);
        List<Integer> seen = new CopyOnWriteArrayList<>();
        CompletableFuture<Followed> f = follow(feed(source, events), job, seen);
        awaitFirstRead(source);
        int readsAfterFirst = source.opened;
        for (int p = 1; p < 5; p++) {
            store(job, p);
            events.deliver(event(job, p));
        }
        // The event-only tokens arrive without a database read.
        for (int i = 0; i < 500 && seen.size() < 5; i++) Thread.sleep(10);
        assertEquals(List.of(0, 1, 2, 3, 4), seen);
        assertEquals(readsAfterFirst, source.opened, "tokens that came in events needed no read");
        storeLast(job, 5);
        events.deliver(event(job, "completed", 5));
        Followed got = f.get(SLOW_MS / 2, TimeUnit.MILLISECONDS);
        assertEquals(List.of(0, 1, 2, 3, 4, 5), got.positions());
        assertTrue(got.millis() < SLOW_MS, "took " + got.millis() + " ms");
    }

    @Test
    void aTokenCommittedJustAfterTheReadComesFromItsEvent() throws Exception {
        long job = runningJob();
        JobEvents events = new JobEvents();
        // After the read, before the stream waits: the commit the read missed is announced right then.
        Hooked source = new Hooked(db, null, () -> {
            store(job, 0);
            events.deliver(event(job, 0));
        });
        CompletableFuture<Followed> f = follow(feed(source, events), job);
        awaitFirstRead(source);
        storeLast(job, 1);
        events.deliver(event(job, "completed", 1));
        Followed got = f.get(SLOW_MS / 2, TimeUnit.MILLISECONDS);
        assertEquals(List.of(0, 1), got.positions());
        assertEquals("completed", got.end().status());
    }

    @Test
    void aLostEventIsAGapAndTheStreamReadsTheDatabase() throws Exception {
        long job = runningJob();
        JobEvents events = new JobEvents();
        Hooked source = new Hooked(db, null, null);
        CompletableFuture<Followed> f = follow(feed(source, events), job);
        awaitFirstRead(source);
        store(job, 0);
        events.deliver(event(job, 0));
        store(job, 1); // its event is lost
        store(job, 2);
        events.deliver(event(job, 2)); // a gap: position 1 is missing
        store(job, 3);
        events.deliver(event(job, 3)); // may arrive while the stream re-reads: a duplicate then
        storeLast(job, 4);
        events.deliver(event(job, "completed", 4));
        Followed got = f.get(SLOW_MS / 2, TimeUnit.MILLISECONDS);
        assertEquals(List.of(0, 1, 2, 3, 4), got.positions());
        assertEquals("completed", got.end().status());
    }

    @Test
    void aReconnectedConsumerMakesEveryStreamReadOnce() throws Exception {
        long job = runningJob();
        JobEvents events = new JobEvents();
        Hooked source = new Hooked(db, null, null);
        List<Integer> seen = new CopyOnWriteArrayList<>();
        CompletableFuture<Followed> f = follow(feed(source, events), job, seen);
        awaitFirstRead(source);
        store(job, 0);
        store(job, 1); // both events lost while the consumer was away
        events.connected(true); // partitions assigned again
        for (int i = 0; i < 500 && seen.size() < 2; i++) Thread.sleep(10);
        assertEquals(List.of(0, 1), seen, "read on reconnecting, not after the 10 s poll");
        storeLast(job, 2);
        events.deliver(event(job, "completed", 2));
        Followed got = f.get(SLOW_MS / 2, TimeUnit.MILLISECONDS);
        assertEquals(List.of(0, 1, 2), got.positions());
    }

    /**
     * The test database with hooks: {@code onOpen} runs once, when the feed takes its first connection (before its
     * statement), {@code onClose} once, when it gives the first one back (after its read). Counts connections.
     */
    static final class Hooked implements DataSource {
        private final DataSource real;
        private Runnable onOpen;
        private Runnable onClose;
        volatile int opened;
        volatile int closed;

        Hooked(DataSource real, Runnable onOpen, Runnable onClose) {
            this.real = real;
            this.onOpen = onOpen;
            this.onClose = onClose;
        }

        @Override
        public Connection getConnection() throws SQLException {
            opened++;
            Runnable open = onOpen;
            onOpen = null;
            if (open != null) open.run();
            Connection c = real.getConnection();
            return (Connection) Proxy.newProxyInstance(Connection.class.getClassLoader(), new Class<?>[]{Connection.class},
                    (proxy, method, args) -> {
                        if (method.getName().equals("close")) {
                            Object r = method.invoke(c, args);
                            closed++;
                            Runnable close = onClose;
                            onClose = null;
                            if (close != null) close.run();
                            return r;
                        }
                        try {
                            return method.invoke(c, args);
                        } catch (java.lang.reflect.InvocationTargetException e) {
                            throw e.getCause();
                        }
                    });
        }

        @Override
        public Connection getConnection(String user, String password) {
            throw new UnsupportedOperationException();
        }

        @Override
        public PrintWriter getLogWriter() {
            return null;
        }

        @Override
        public void setLogWriter(PrintWriter out) {}

        @Override
        public void setLoginTimeout(int seconds) {}

        @Override
        public int getLoginTimeout() {
            return 0;
        }

        @Override
        public Logger getParentLogger() {
            return Logger.getGlobal();
        }

        @Override
        public <T> T unwrap(Class<T> iface) {
            throw new UnsupportedOperationException();
        }

        @Override
        public boolean isWrapperFor(Class<?> iface) {
            return false;
        }
    }
}
