package dev.bunshin.submitter;

import dev.bunshin.engine.TestModels;
import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.engine.gguf.GgufKeys;
import dev.bunshin.engine.sample.grammar.Automaton;
import dev.bunshin.engine.sample.grammar.ResponseFormat;
import dev.bunshin.models.gguf.GgufWriter;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Tool calls end to end through the submitter, against a model whose template has a tool section: stories260K's
 * vocabulary with Qwen 2.5's chat template (a synthetic GGUF written for the test). The tail is played: a job whose
 * prompt lists tools gets a Hermes call of the first tool, in pieces that split its markup; a job whose prompt
 * holds a tool response gets a sentence. The official clients (openai, ollama, LangChain) then see calls.
 */
@QuarkusTest
@TestProfile(ToolCallsApiTest.QwenTemplate.class)
@WithTestResource(TestPostgres.class)
@WithTestResource(TestKafka.class)
class ToolCallsApiTest {

    static final String MODEL = "qwen-tools";
    static final String ANSWER = "It is 22 degrees and sunny in Paris.";

    /** Serves stories260K's vocabulary with Qwen 2.5's template (no tensors: the submitter reads metadata only). */
    public static class QwenTemplate implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            try {
                Path p = Files.createTempFile("qwen-tools", ".gguf");
                writeModel(p, template("qwen2.5-instruct.jinja"));
                return Map.of("bunshin.model", p.toString(), "bunshin.model-id", MODEL);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    static String template(String name) throws IOException {
        try (InputStream in = ToolCallsApiTest.class.getResourceAsStream("/templates/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** stories260K's metadata, tokenizer included, with another chat template. */
    static void writeModel(Path path, String template) throws IOException {
        GgufWriter w = new GgufWriter();
        try (GgufFile f = GgufFile.open(TestModels.stories260K())) {
            for (Map.Entry<String, Object> e : f.metadata().entrySet()) {
                String k = e.getKey();
                switch (e.getValue()) {
                    case String s -> w.putString(k, s);
                    case Integer i -> w.putUint32(k, i);
                    case Long l -> w.putUint64(k, l);
                    case Float x -> w.putFloat32(k, x);
                    case Boolean b -> w.putBool(k, b);
                    case String[] a -> w.putArray(k, GgufWriter.ValueType.STRING, a);
                    case float[] a -> w.putArray(k, GgufWriter.ValueType.FLOAT32, a);
                    case int[] a -> w.putArray(k, GgufWriter.ValueType.INT32, a);
                    default -> throw new IllegalStateException(k + ": " + e.getValue().getClass());
                }
            }
        }
        w.putString(GgufKeys.TOKENIZER_CHAT_TEMPLATE, template);
        w.write(path);
    }

    @TestHTTPResource("/")
    URI base;

    private final AtomicBoolean playing = new AtomicBoolean();
    private Thread pipeline;

    @BeforeEach
    void play() {
        playing.set(true);
        pipeline = Thread.ofPlatform().daemon().name("played-tool-pipeline").start(this::playPipeline);
    }

    @AfterEach
    void stop() throws InterruptedException {
        playing.set(false);
        pipeline.join(5000);
    }

    static final String TOOLS = "[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"description\":"
            + "\"The weather in a city\",\"parameters\":{\"type\":\"object\",\"properties\":{\"city\":{\"type\":"
            + "\"string\"}},\"required\":[\"city\"]}}}]";
    static final String ASK = "[{\"role\":\"user\",\"content\":\"Weather in Paris?\"}]";

    @Test
    void anOpenAiChatWithToolsAnswersToolCalls() {
        given().contentType(ContentType.JSON)
                .body("{\"model\":\"" + MODEL + "\",\"messages\":" + ASK + ",\"tools\":" + TOOLS + "}")
                .post("/v1/chat/completions").then().statusCode(200)
                .body("choices[0].finish_reason", equalTo("tool_calls"))
                .body("choices[0].message.content", nullValue())
                .body("choices[0].message.tool_calls[0].id", containsString("call_"))
                .body("choices[0].message.tool_calls[0].type", equalTo("function"))
                .body("choices[0].message.tool_calls[0].function.name", equalTo("get_weather"))
                .body("choices[0].message.tool_calls[0].function.arguments", equalTo("{\"city\":\"Paris\"}"));
    }

    @Test
    void parallelToolCallsFalseAnswersOnlyTheRepliesFirstCall() {
        String two = "[{\"role\":\"user\",\"content\":\"Weather in Paris and Rome?\"}]";
        given().contentType(ContentType.JSON)
                .body("{\"model\":\"" + MODEL + "\",\"messages\":" + two + ",\"tools\":" + TOOLS + "}")
                .post("/v1/chat/completions").then().statusCode(200)
                .body("choices[0].message.tool_calls.size()", equalTo(2))
                .body("choices[0].message.tool_calls[1].function.arguments", equalTo("{\"city\":\"Rome\"}"));
        given().contentType(ContentType.JSON)
                .body("{\"model\":\"" + MODEL + "\",\"messages\":" + two + ",\"tools\":" + TOOLS
                        + ",\"parallel_tool_calls\":false}")
                .post("/v1/chat/completions").then().statusCode(200)
                .body("choices[0].finish_reason", equalTo("tool_calls"))
                .body("choices[0].message.tool_calls.size()", equalTo(1))
                .body("choices[0].message.tool_calls[0].function.arguments", equalTo("{\"city\":\"Paris\"}"));
        String sse = given().contentType(ContentType.JSON)
                .body("{\"model\":\"" + MODEL + "\",\"messages\":" + two + ",\"tools\":" + TOOLS
                        + ",\"parallel_tool_calls\":false,\"stream\":true}")
                .post("/v1/chat/completions").then().statusCode(200).extract().asString();
        assertTrue(sse.contains("Paris") && !sse.contains("Rome") && !sse.contains("\"index\":1"), sse);
    }

    @Test
    void aToolResultGoesBackInAndTheAnswerIsText() {
        String messages = "[{\"role\":\"user\",\"content\":\"Weather in Paris?\"},{\"role\":\"assistant\",\"content\":null,"
                + "\"tool_calls\":[{\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\","
                + "\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"}}]},{\"role\":\"tool\",\"tool_call_id\":\"call_1\","
                + "\"content\":\"22 degrees, sunny\"}]";
        given().contentType(ContentType.JSON)
                .body("{\"model\":\"" + MODEL + "\",\"messages\":" + messages + ",\"tools\":" + TOOLS + "}")
                .post("/v1/chat/completions").then().statusCode(200)
                .body("choices[0].finish_reason", equalTo("stop"))
                .body("choices[0].message.content", equalTo(ANSWER))
                .body("choices[0].message", not(org.hamcrest.Matchers.hasKey("tool_calls")));
        String prompt = TestDb.query("SELECT prompt FROM jobs ORDER BY id DESC LIMIT 1");
        assertTrue(prompt.contains("<|im_start|>assistant\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": "
                + "{\"city\": \"Paris\"}}\n</tool_call><|im_end|>\n<|im_start|>user\n<tool_response>\n22 degrees, sunny\n"
                + "</tool_response><|im_end|>"), prompt);
    }

    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

    @Test
    void anOpenAiStreamSendsToolCallDeltasAndNoMarkup() throws IOException {
        String sse = given().contentType(ContentType.JSON)
                .body("{\"model\":\"" + MODEL + "\",\"stream\":true,\"messages\":" + ASK + ",\"tools\":" + TOOLS + "}")
                .post("/v1/chat/completions").then().statusCode(200).extract().asString();
        assertFalse(sse.contains("tool_call>"), sse);
        assertTrue(sse.contains("\"finish_reason\":\"tool_calls\""), sse);
        // The call streams as it is generated: its name first, then its arguments piece by piece.
        List<com.fasterxml.jackson.databind.JsonNode> deltas = new java.util.ArrayList<>();
        for (String line : sse.split("\n")) {
            if (!line.startsWith("data: {")) continue;
            com.fasterxml.jackson.databind.JsonNode calls = JSON.readTree(line.substring(6)).path("choices").path(0).path("delta").path("tool_calls");
            calls.forEach(deltas::add);
        }
        assertTrue(deltas.size() >= 3, "a first piece and at least two pieces of arguments: " + deltas);
        com.fasterxml.jackson.databind.JsonNode first = deltas.getFirst();
        assertEquals(0, first.path("index").asInt());
        assertTrue(first.path("id").asText().startsWith("call_"), first.toString());
        assertEquals("function", first.path("type").asText());
        assertEquals("get_weather", first.path("function").path("name").asText());
        assertEquals("", first.path("function").path("arguments").asText());
        StringBuilder arguments = new StringBuilder();
        for (com.fasterxml.jackson.databind.JsonNode d : deltas.subList(1, deltas.size())) {
            assertEquals(0, d.path("index").asInt());
            assertFalse(d.has("id") || d.path("function").has("name"), "only the first piece names the call: " + d);
            arguments.append(d.path("function").path("arguments").asText());
        }
        assertEquals(JSON.readTree("{\"city\":\"Paris\"}"), JSON.readTree(arguments.toString()));
    }

    @Test
    void ollamaChatAnswersToolCallsWithArgumentsAsAnObject() {
        given().contentType(ContentType.JSON)
                .body("{\"model\":\"" + MODEL + "\",\"stream\":false,\"messages\":" + ASK + ",\"tools\":" + TOOLS + "}")
                .post("/api/chat").then().statusCode(200)
                .body("message.content", equalTo(""))
                .body("message.tool_calls[0].function.name", equalTo("get_weather"))
                .body("message.tool_calls[0].function.arguments.city", equalTo("Paris"));
        String nd = given().contentType(ContentType.JSON)
                .body("{\"model\":\"" + MODEL + "\",\"messages\":" + ASK + ",\"tools\":" + TOOLS + "}")
                .post("/api/chat").then().statusCode(200).extract().asString();
        assertFalse(nd.contains("tool_call>"), nd);
        assertTrue(nd.contains("\"tool_calls\":[{\"function\":{\"name\":\"get_weather\",\"arguments\":{\"city\":\"Paris\"}}}]"), nd);
    }

    @Test
    void toolChoiceNoneHidesTheToolsAndRequiredConstrainsTheReplyToACall() {
        given().contentType(ContentType.JSON)
                .body("{\"model\":\"" + MODEL + "\",\"messages\":" + ASK + ",\"tools\":" + TOOLS + ",\"tool_choice\":\"none\"}")
                .post("/v1/chat/completions").then().statusCode(200)
                .body("choices[0].finish_reason", not(equalTo("tool_calls")));
        for (String choice : List.of("\"required\"", "{\"type\":\"function\",\"function\":{\"name\":\"get_weather\"}}")) {
            long before = TestDb.maxJobId();
            // The played tail answers only what the job's grammar accepts (else it fails the job): a 200 with the
            // call is the constraint accepting Hermes' call of the tool.
            given().contentType(ContentType.JSON)
                    .body("{\"model\":\"" + MODEL + "\",\"messages\":" + ASK + ",\"tools\":" + TOOLS + ",\"tool_choice\":" + choice + "}")
                    .post("/v1/chat/completions").then().statusCode(200)
                    .body("choices[0].finish_reason", equalTo("tool_calls"))
                    .body("choices[0].message.tool_calls[0].function.name", equalTo("get_weather"));
            long id = TestDb.maxJobId();
            assertTrue(id > before, "a job was made");
            String stored = TestDb.query("SELECT response_format::text FROM jobs WHERE id = ?", id);
            assertTrue(stored != null && stored.contains("anyOf") && stored.contains("<tool_call>"), choice + ": " + stored);
            Automaton a = new Automaton(ResponseFormat.parse(stored).grammar());
            assertFalse(a.advance(a.start(), "<tool_call>\n{\"name\": \"other\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>"
                    .getBytes(StandardCharsets.UTF_8)).accepts(), "a call of another tool is refused");
            assertFalse(a.advance(a.start(), "It is sunny.".getBytes(StandardCharsets.UTF_8)).canContinue(),
                    "plain text is refused");
        }
        given().contentType(ContentType.JSON)
                .body("{\"model\":\"" + MODEL + "\",\"messages\":" + ASK + ",\"tools\":" + TOOLS
                        + ",\"tool_choice\":\"required\",\"response_format\":{\"type\":\"json_object\"}}")
                .post("/v1/chat/completions").then().statusCode(400)
                .body("error.param", equalTo("tool_choice"));
        given().contentType(ContentType.JSON)
                .body("{\"model\":\"" + MODEL + "\",\"messages\":" + ASK + ",\"tools\":" + TOOLS
                        + ",\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"nope\"}}}")
                .post("/v1/chat/completions").then().statusCode(400)
                .body("error.param", equalTo("tool_choice.function.name"));
        given().contentType(ContentType.JSON)
                .body("{\"model\":\"" + MODEL + "\",\"messages\":" + ASK + ",\"tools\":[{\"type\":\"function\",\"function\":{}}]}")
                .post("/v1/chat/completions").then().statusCode(400)
                .body("error.param", equalTo("tools[0].function.name"));
    }

    @Test
    void aBatchLineWithToolsAnswersToolCalls() throws Exception {
        String line = "{\"custom_id\":\"t1\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\""
                + MODEL + "\",\"messages\":" + ASK + ",\"tools\":" + TOOLS + "}}";
        String id = given().contentType("application/jsonl").body(line.getBytes(StandardCharsets.UTF_8))
                .post("/v1/batches").then().statusCode(202).extract().jsonPath().getString("id");
        String output = "";
        for (int i = 0; i < 200 && output.isBlank(); i++) {
            Thread.sleep(50);
            output = given().get("/v1/batches/" + id + "/output").then().statusCode(200).extract().asString();
        }
        var body = new com.fasterxml.jackson.databind.ObjectMapper().readTree(output).path("response").path("body");
        assertEquals("tool_calls", body.path("choices").path(0).path("finish_reason").asText(), output);
        var call = body.path("choices").path(0).path("message").path("tool_calls").path(0);
        assertEquals("get_weather", call.path("function").path("name").asText(), output);
        assertEquals("{\"city\":\"Paris\"}", call.path("function").path("arguments").asText(), output);
    }

    @Test
    void theOfficialClientsSeeToolCalls() throws Exception {
        if (!Files.isDirectory(NodeClientsTest.NODE_DIR.resolve("node_modules/@langchain/openai"))) {
            NodeClientsTest.run(List.of("npm", "ci", "--no-audit", "--no-fund"), Map.of(), 300);
        }
        String url = base.toString().replaceAll("/$", "");
        String out = NodeClientsTest.run(List.of("node", "tools-client.mjs"), Map.of("BUNSHIN_URL", url), 300);
        assertTrue(out.contains("PASS tools 0 failed"), out);
        String lc = NodeClientsTest.run(List.of("node", "langchain-client.mjs"), Map.of("BUNSHIN_URL", url), 300);
        assertTrue(lc.contains("PASS langchain 0 failed"), lc);
    }

    private static final Pattern FIRST_TOOL = Pattern.compile("<tools>\n\\{\"type\": \"function\", \"function\": "
            + "\\{\"name\": \"([^\"]+)\"");

    /** The tail, played: a call of the first listed tool (in pieces that split its markup), or after a result, text. */
    private void playPipeline() {
        while (playing.get()) {
            String queued = TestDb.query("SELECT min(id)::text FROM jobs WHERE status = 'queued'");
            if (queued != null) {
                long id = Long.parseLong(queued);
                String prompt = TestDb.query("SELECT prompt FROM jobs WHERE id = ?", id);
                Matcher m = FIRST_TOOL.matcher(prompt);
                List<String> pieces;
                if (prompt.contains("<tool_response>") || !m.find()) {
                    pieces = List.of(ANSWER.split("(?<= )"));
                } else if (prompt.contains("Paris and Rome")) { // two calls in one reply
                    pieces = List.of("<tool_call>\n{\"name\": \"" + m.group(1) + "\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>",
                            "\n<tool_call>\n{\"name\": \"" + m.group(1) + "\", \"arguments\": {\"city\": \"Rome\"}}\n</tool_call>");
                } else {
                    pieces = List.of("<tool", "_call>\n{\"name\": \"" + m.group(1) + "\", ",
                            "\"arguments\": {\"city\": ", "\"Paris\"}}\n</", "tool_call>");
                }
                TestDb.start(id);
                String format = TestDb.query("SELECT response_format::text FROM jobs WHERE id = ?", id);
                if (format != null) {
                    Automaton a = new Automaton(ResponseFormat.parse(format).grammar());
                    if (!a.advance(a.start(), String.join("", pieces).getBytes(StandardCharsets.UTF_8)).accepts()) {
                        TestDb.fail(id, "played tail: the job's grammar refuses " + pieces);
                        continue;
                    }
                }
                for (int p = 0; p < pieces.size(); p++) {
                    TestDb.token(id, p, 300 + p, pieces.get(p));
                }
                TestDb.finish(id, "stop");
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                return;
            }
        }
    }
}
