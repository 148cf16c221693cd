package dev.bunshin.e2e;

import dev.bunshin.cli.Main;
import dev.bunshin.engine.TestModels;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code ./bunshin bench pipeline} end to end on the packaged apps: it starts the whole service, runs its rounds of
 * jobs through the REST API and prints one table row per round beside the in-process baselines.
 */
class PipelineBenchIT {

    @Test
    void printsAServiceRowPerJobCountBesideTheBaselines() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(new String[] {"bench", "pipeline", TestModels.stories260K().toString(), "--jobs", "1,3",
                        "--tokens", "6", "--skip-llama"},
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        String table = out.toString(StandardCharsets.UTF_8);
        String log = err.toString(StandardCharsets.UTF_8);
        assertEquals(0, status, table + "\n" + log);
        List<String> service = table.lines().filter(l -> l.startsWith("| bunshin service")).toList();
        assertEquals(2, service.size(), table);
        for (int i = 0; i < 2; i++) {
            String[] cells = service.get(i).split("\\|");
            assertEquals(List.of(1, 3).get(i), Integer.parseInt(cells[2].strip()), service.get(i));
            assertTrue(Double.parseDouble(cells[3].strip()) > 0, service.get(i));
        }
        assertTrue(table.contains("| bunshin engine, one process, one batch | 3 |"), table);
        // every job of every round completed (the rounds' lines count their tokens: at most 6 per job)
        assertTrue(log.contains("pipeline: 3 jobs"), log);
    }
}
