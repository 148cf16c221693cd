package dev.bunshin.submitter;

import dev.bunshin.cli.Main;
import dev.bunshin.db.PlanTable;
import dev.bunshin.db.StagePlan;
import dev.bunshin.db.WorkersTable;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code ./bunshin status} against the running submitter: workers, the plan as bars, the queue and the rate. */
@QuarkusTest
@WithTestResource(TestPostgres.class)
@WithTestResource(TestKafka.class)
class CliStatusTest {

    @TestHTTPResource("/")
    URI base;

    @Test
    void printsWorkersPlanQueueAndRates() throws Exception {
        String w0 = "cli-status-w0", w1 = "cli-status-w1";
        try (Connection c = ClusterApiTest.db().getConnection()) {
            WorkersTable.register(c, w0, ClusterApiTest.MODEL, "host-a", 1L << 30, 1, 2.0);
            WorkersTable.register(c, w1, ClusterApiTest.MODEL, "host-b", 1L << 30, 1, 2.0);
            PlanTable.insert(c, new StagePlan(ClusterApiTest.MODEL, PlanTable.currentEpoch(c, ClusterApiTest.MODEL) + 1000,
                    128, List.of(new StagePlan.Stage(0, w0, 0, 2, "t0"), new StagePlan.Stage(1, w1, 2, 5, "t1"))));
        }
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
            int status = Main.run(new String[]{"status", "--url", base.toString()},
                    new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
            String text = out.toString(StandardCharsets.UTF_8);
            System.out.println(text);
            assertEquals(0, status, err.toString(StandardCharsets.UTF_8));
            assertTrue(text.startsWith("model stories260K (llama, 5 layers), plan epoch "), text);
            assertTrue(text.contains("context 128"), text);
            assertTrue(text.lines().anyMatch(l -> l.startsWith(w0) && l.contains("host-a") && l.contains("live")
                    && l.contains("[0, 2)")), text);
            assertTrue(text.lines().anyMatch(l -> l.matches("1\\s+" + w1 + "\\s+\\[2, 5\\)\\s+\\|\\.{16}#{24}\\|")), text);
            assertTrue(text.contains("queue: ") && text.contains(" queued, ") && text.contains("rate: "), text);
        } finally {
            TestDb.removeWorkers(w0, w1);
        }
    }
}
