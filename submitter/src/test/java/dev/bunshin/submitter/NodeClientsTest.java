package dev.bunshin.submitter;

import dev.bunshin.db.JobEmbeddings;
import dev.bunshin.engine.sample.grammar.Automaton;
import dev.bunshin.engine.sample.grammar.ResponseFormat;
import dev.bunshin.engine.sample.grammar.SchemaExample;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The official {@code openai} and {@code ollama} npm clients, with {@code zod} and LangChain's {@code ChatOpenAI} and
 * {@code ChatOllama} for structured outputs and its {@code OpenAIEmbeddings} (versions pinned in
 * src/test/node/package-lock.json, installed with {@code npm ci}) run their scripts unchanged but for the base URL.
 *
 * <p>By default they run against this test's submitter, with the pipeline played in the database (a deterministic
 * generator writes tokens for every queued job, as the tail would). With {@code -Dbunshin.e2e.url=http://HOST:PORT}
 * they run against a full running Bunshin instead ({@code ./bunshin up}), where real stage workers generate.
 */
@QuarkusTest
@WithTestResource(TestPostgres.class)
@WithTestResource(TestKafka.class)
class NodeClientsTest {

    static final Path NODE_DIR = Path.of("src/test/node").toAbsolutePath();
    static final List<String> WORDS = List.of(" Once", " there", " was", " a", " little", " dog", " named", " Tim", ".");

    @TestHTTPResource("/")
    URI base;

    private final AtomicBoolean playing = new AtomicBoolean();
    private Thread pipeline;

    @BeforeEach
    void installClients() throws Exception {
        if (List.of("openai", "ollama", "zod", "@langchain/openai", "@langchain/ollama").stream()
                .anyMatch(p -> !Files.isDirectory(NODE_DIR.resolve("node_modules").resolve(p)))) {
            run(List.of("npm", "ci", "--no-audit", "--no-fund"), Map.of(), 300);
        }
        if (externalUrl() == null) {
            playing.set(true);
            pipeline = Thread.ofPlatform().daemon().name("played-pipeline").start(this::playPipeline);
        }
    }

    @AfterEach
    void stopPipeline() throws InterruptedException {
        playing.set(false);
        if (pipeline != null) {
            pipeline.join(5000);
        }
    }

    @Test
    void theOpenAiClientWorksUnchanged() throws Exception {
        String out = run(List.of("node", "openai-client.mjs"), clientEnv(url()), 600);
        assertTrue(out.contains("PASS openai 0 failed"), out);
    }

    @Test
    void theOllamaClientWorksUnchanged() throws Exception {
        String out = run(List.of("node", "ollama-client.mjs"), clientEnv(url()), 600);
        assertTrue(out.contains("PASS ollama 0 failed"), out);
    }

    @Test
    void langChainEmbeddingsWorkUnchanged() throws Exception {
        String out = run(List.of("node", "langchain-embeddings-client.mjs"), clientEnv(url()), 300);
        assertTrue(out.contains("PASS langchain-embeddings 0 failed"), out);
    }

    /** The clients' environment: where Bunshin is (and, in {@link NodeClientsWithApiKeyTest}, the key). */
    Map<String, String> clientEnv(String url) {
        return Map.of("BUNSHIN_URL", url);
    }

    private static String externalUrl() {
        String u = System.getProperty("bunshin.e2e.url");
        return u == null || u.isBlank() ? null : u;
    }

    private String url() {
        String u = externalUrl() != null ? externalUrl() : base.toString();
        return u.endsWith("/") ? u.substring(0, u.length() - 1) : u;
    }

    static String run(List<String> command, Map<String, String> env, long timeoutSeconds) throws Exception {
        Path log = Files.createTempFile("node", ".log");
        ProcessBuilder pb = new ProcessBuilder(command).directory(NODE_DIR.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        pb.environment().putAll(env);
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new IllegalStateException(command.getFirst() + " is needed for this test (Node 20+): " + e.getMessage(), e);
        }
        boolean ended = p.waitFor(timeoutSeconds, TimeUnit.SECONDS);
        if (!ended) {
            p.destroyForcibly();
        }
        String out = Files.readString(log, StandardCharsets.UTF_8);
        System.out.println("--- " + String.join(" ", command) + "\n" + out);
        assertTrue(ended, String.join(" ", command) + " timed out:\n" + out);
        assertEquals(0, p.exitValue(), String.join(" ", command) + " failed:\n" + out);
        return out;
    }

    /**
     * The tail stage, played: every queued job gets min(max_tokens, 5) tokens chosen from its prompt tokens (so the
     * same request gets the same answer, as greedy decoding would), with {@link TestDb#logprobs} if it asked for
     * them, then ends with length or stop; an embedding job gets {@link #embedding} of its prompt tokens' sum. A job
     * with a response format gets instead a small document its schema accepts ({@link SchemaExample}), checked against
     * the very grammar the tail would constrain it with, in pieces of a few characters, and ends with stop. (Real
     * generation under the constraint: TailJobStructuredTest, and these scripts against {@code ./bunshin up} in
     * UpClientsIT.)
     */
    /** The played tail's pooled vector for a prompt whose token ids sum to {@code seed}: 64 values, not normalised. */
    static float[] embedding(long seed) {
        float[] v = new float[64];
        for (int i = 0; i < v.length; i++) v[i] = (float) (3 * Math.sin(seed + i));
        return v;
    }

    private void playPipeline() {
        while (playing.get()) {
            String queued = TestDb.query("SELECT string_agg(id || ':' || max_tokens || ':' || "
                    + "(SELECT coalesce(sum(t), 0) FROM unnest(prompt_tokens) t) || ':' || coalesce(logprobs, -1) || ':' "
                    + "|| kind, ',') "
                    + "FROM jobs WHERE status = 'queued'");
            if (queued != null) {
                for (String row : queued.split(",")) {
                    String[] f = row.split(":");
                    long id = Long.parseLong(f[0]);
                    int max = Integer.parseInt(f[1]);
                    long seed = Long.parseLong(f[2]);
                    int k = Integer.parseInt(f[3]);
                    int n = Math.min(max, 5);
                    TestDb.start(id);
                    if (JobEmbeddings.KIND.equals(f[4])) {
                        TestDb.embed(id, embedding(seed));
                        continue;
                    }
                    String format = TestDb.query("SELECT response_format::text FROM jobs WHERE id = ?", id);
                    if (format != null) {
                        playDocument(id, format);
                        continue;
                    }
                    for (int p = 0; p < n; p++) {
                        int w = (int) ((seed + p) % WORDS.size());
                        if (k < 0) TestDb.token(id, p, 300 + w, WORDS.get(w));
                        else TestDb.token(id, p, 300 + w, WORDS.get(w), k);
                    }
                    TestDb.finish(id, n == max ? "length" : "stop");
                }
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** Writes a document the job's response format accepts, a few characters a token, and ends the job. */
    private static void playDocument(long id, String format) {
        String doc = SchemaExample.forResponseFormat(format);
        Automaton a = new Automaton(ResponseFormat.parse(format).grammar());
        if (!a.advance(a.start(), doc.getBytes(StandardCharsets.UTF_8)).accepts()) {
            TestDb.fail(id, "played tail: the grammar refuses its own example " + doc);
            return;
        }
        int p = 0;
        for (int at = 0; at < doc.length(); at += 6) {
            TestDb.token(id, p, 300 + p, doc.substring(at, Math.min(doc.length(), at + 6)));
            p++;
        }
        TestDb.finish(id, "stop");
    }
}
