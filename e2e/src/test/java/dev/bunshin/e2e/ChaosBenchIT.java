package dev.bunshin.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bunshin.cli.Main;
import dev.bunshin.engine.TestModels;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code ./bunshin bench chaos} end to end, short: the supervised stack (packaged apps, stories260K, 2 workers) serves
 * a job a second while a stage worker, the scheduler, the submitter or PostgreSQL gets kill -9 every 8 s (each kind in turn); every job
 * accepted must complete with the undisturbed job's tokens, and nothing of the stack may be left afterwards. The
 * bench's longer runs are in docs/benchmarks.md.
 */
class ChaosBenchIT {

    @Test
    void everyJobSurvivesKills() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(new String[] {"bench", "chaos", TestModels.stories260K().toString(), "--seconds", "36",
                        "--kill-every", "8", "--rate", "1", "--tokens", "24", "--seed", "11",
                        "--targets", "worker,scheduler,submitter,postgres", "--json"},
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        String log = err.toString(StandardCharsets.UTF_8);
        System.out.println(log);
        assertEquals(0, status, out + "\n" + log);
        JsonNode r = new ObjectMapper().readTree(out.toString(StandardCharsets.UTF_8));
        assertTrue(r.get("jobs").asInt() >= 10, "jobs kept coming: " + r);
        assertEquals(r.get("jobs").asInt(), r.get("completed").asInt(), r.toString());
        assertEquals(0, r.get("differing").asInt() + r.get("bad_positions").asInt() + r.get("orphans").asInt(), r.toString());
        // Each kill waits for the next token before the next one: on a busy machine fewer fit in 36 s.
        assertTrue(r.get("kills").size() >= 2, "kills: " + r);
        Set<String> killed = new HashSet<>();
        for (JsonNode k : r.get("kills")) {
            killed.add(k.get("target").asText().replaceAll("-\\d+$", ""));
            assertTrue(!k.get("recovery_s").isNull(), "a token after every kill: " + k);
        }
        assertTrue(killed.size() >= 2, "several kinds of process killed: " + killed);
    }
}
