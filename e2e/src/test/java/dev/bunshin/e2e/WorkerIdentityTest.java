package dev.bunshin.e2e;

import dev.bunshin.db.WorkersTable;
import dev.bunshin.engine.TestModels;
import dev.bunshin.worker.StageWorker;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A worker id is one process (issue 10): a second process registering with an id that is live (another
 * incarnation, a recent heartbeat) is refused with a message naming the id, and a process stopping marks only its
 * own incarnation's row, never the live one that took the id over.
 */
class WorkerIdentityTest {

    @Test
    void aSecondProcessWithALiveIdIsRefused() throws Exception {
        Infra infra = Infra.get();
        try (Services s = new Services(infra.db, infra.kafka.bootstrapServers(), "ident-" + System.nanoTime() % 100000,
                TestModels.stories260K(), 1)) {
            StageWorker first = s.startWorker("w0");
            StageWorker second = s.newWorker("w0");
            IllegalStateException e = assertThrows(IllegalStateException.class, second::start);
            assertTrue(e.getMessage().contains("worker id " + first.id() + " is already in use"), e.getMessage());
            Thread.sleep(700); // a couple of the first one's heartbeats: still its row, still live
            assertEquals("live", status(infra, first.id()));
            s.assertNoWorkerFailed();
        }
    }

    @Test
    void aRestartOfAKilledProcessWaitsForItsHeartbeatToAgeOutAndRegisters() throws Exception {
        Infra infra = Infra.get();
        try (Services s = new Services(infra.db, infra.kafka.bootstrapServers(), "ident-" + System.nanoTime() % 100000,
                TestModels.stories260K(), 1)) {
            String id = s.modelId + "-w0";
            // A process that registered and heartbeated a moment ago, then was killed -9: no more heartbeats.
            try (Connection c = infra.db.getConnection()) {
                assertTrue(WorkersTable.register(c, id, "the-killed-process", s.modelId, "localhost", 1L << 30, 1, 1.0,
                        Duration.ofSeconds(3)));
            }
            long t0 = System.nanoTime();
            StageWorker restarted = s.startWorker("w0");
            double waited = (System.nanoTime() - t0) / 1e9;
            assertTrue(waited >= 2.5, "it waited for the killed process's heartbeat to age out: " + waited + " s");
            assertEquals("live", status(infra, restarted.id()));
            assertTrue(!"the-killed-process".equals(query(infra, "SELECT incarnation FROM workers WHERE id = ?", id)));
        }
    }

    @Test
    void aWorkerMarkedLostWhileSilentIsLiveAgainWhenItsHeartbeatsGetThrough() throws Exception {
        Infra infra = Infra.get();
        try (Services s = new Services(infra.db, infra.kafka.bootstrapServers(), "ident-" + System.nanoTime() % 100000,
                TestModels.stories260K(), 1)) {
            StageWorker w = s.startWorker("w0");
            String incarnation = query(infra, "SELECT incarnation FROM workers WHERE id = ?", w.id());
            // What the scheduler does to a worker whose heartbeats could not reach the database for its timeout.
            try (Connection c = infra.db.getConnection();
                 PreparedStatement ps = c.prepareStatement("UPDATE workers SET status = 'lost' WHERE id = ?")) {
                ps.setString(1, w.id());
                ps.executeUpdate();
            }
            Thread.sleep(700);
            assertEquals("live", status(infra, w.id()));
            assertEquals(incarnation, query(infra, "SELECT incarnation FROM workers WHERE id = ?", w.id()));
            s.assertNoWorkerFailed();
        }
    }

    @Test
    void stoppingAProcessNeverMarksTheOneThatTookItsIdOver() throws Exception {
        Infra infra = Infra.get();
        try (Services s = new Services(infra.db, infra.kafka.bootstrapServers(), "ident-" + System.nanoTime() % 100000,
                TestModels.stories260K(), 1)) {
            StageWorker orphan = s.startWorker("w0");
            // The orphan goes silent and is marked lost; another process registers the id (one transaction, so the
            // orphan's heartbeat cannot revive its row in between).
            try (Connection c = infra.db.getConnection()) {
                c.setAutoCommit(false);
                try (PreparedStatement ps = c.prepareStatement("UPDATE workers SET status = 'lost' WHERE id = ?")) {
                    ps.setString(1, orphan.id());
                    ps.executeUpdate();
                }
                assertTrue(WorkersTable.register(c, orphan.id(), "the-new-process", s.modelId, "localhost", 1L << 30, 1,
                        1.0, Duration.ofSeconds(3)));
                c.commit();
            }
            Thread.sleep(700); // the orphan's heartbeats find the row is not its own: they change nothing
            assertEquals("live", status(infra, orphan.id()));
            s.stopWorker("w0");
            assertEquals("live", status(infra, orphan.id()), "the orphan's stop left the new process's row alone");
            assertEquals("the-new-process", query(infra, "SELECT incarnation FROM workers WHERE id = ?", orphan.id()));
        }
    }

    private static String status(Infra infra, String id) throws SQLException {
        return query(infra, "SELECT status FROM workers WHERE id = ?", id);
    }

    private static String query(Infra infra, String sql, String id) throws SQLException {
        try (Connection c = infra.db.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getString(1);
            }
        }
    }
}
