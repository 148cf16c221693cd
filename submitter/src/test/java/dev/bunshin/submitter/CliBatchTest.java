package dev.bunshin.submitter;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bunshin.cli.BatchCommand;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code ./bunshin batch} against the running submitter, with the tail played in the database. */
@QuarkusTest
@WithTestResource(TestPostgres.class)
@WithTestResource(TestKafka.class)
class CliBatchTest {

    @TestHTTPResource("/")
    URI base;

    @TempDir
    Path dir;

    @Test
    void submitsWaitsAndWritesResultsInInputOrderAndErrorsNextToThem() throws Exception {
        Path in = Files.writeString(dir.resolve("prompts.jsonl"), String.join("\n",
                "{\"custom_id\":\"cli-1\",\"method\":\"POST\",\"url\":\"/v1/completions\",\"body\":{\"prompt\":\"Once\",\"max_tokens\":3}}",
                "{\"custom_id\":\"cli-2\",\"method\":\"POST\",\"url\":\"/v1/jobs\",\"body\":{\"prompt\":\"\"}}",
                "{\"custom_id\":\"cli-3\",\"method\":\"POST\",\"url\":\"/v1/jobs\",\"body\":{\"prompt\":\"Lily\",\"max_tokens\":3}}",
                ""));
        CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(() -> BatchCommand.run(new String[]{
                in.toString(), "--url", base.toString(), "--poll-ms", "50"}));
        // The pipeline: run every queued job of this file, last line first.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        int done = 0;
        while (done < 2 && System.nanoTime() < deadline) {
            String ids = TestDb.query("SELECT string_agg(id::text, ',' ORDER BY id DESC) FROM jobs "
                    + "WHERE status = 'queued' AND custom_id LIKE 'cli-%'");
            if (ids == null) {
                Thread.sleep(20);
                continue;
            }
            for (String s : ids.split(",")) {
                long id = Long.parseLong(s);
                TestDb.start(id);
                TestDb.token(id, 0, 9, " upon");
                TestDb.token(id, 1, 9, " a time");
                TestDb.finish(id, "length");
                done++;
            }
        }
        assertEquals(1, exit.get(30, TimeUnit.SECONDS), "1: one line was rejected");

        List<JsonNode> out = BatchApiTest.lines(Files.readString(dir.resolve("prompts.out.jsonl")));
        assertEquals(List.of("cli-1", "cli-3"), out.stream().map(o -> o.get("custom_id").asText()).toList());
        assertEquals(" upon a time", out.get(0).get("response").get("body").get("choices").get(0).get("text").asText());
        assertEquals(" upon a time", out.get(1).get("response").get("body").get("text").asText());
        List<JsonNode> errors = BatchApiTest.lines(Files.readString(dir.resolve("prompts.errors.jsonl")));
        assertEquals(1, errors.size());
        assertEquals(2, errors.get(0).get("error").get("line").asInt());
        assertEquals("body.prompt", errors.get(0).get("error").get("param").asText());
    }

    @Test
    void aFileTheSubmitterRefusesIsReported() throws Exception {
        Path in = Files.writeString(dir.resolve("empty.jsonl"), "\n\n");
        Path out = dir.resolve("o.jsonl");
        assertEquals(3, BatchCommand.run(new String[]{in.toString(), "-o", out.toString(), "--url", base.toString()}));
        assertFalse(Files.exists(out));
        assertTrue(Files.exists(in));
    }
}
