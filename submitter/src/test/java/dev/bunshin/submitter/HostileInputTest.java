package dev.bunshin.submitter;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a hostile or careless client sends: NUL characters, invalid UTF-8, trailing data, wrong types, absurd
 * limits, bad event ids. Each is a 400 naming the field (never a 500, never stored, never silently changed); a
 * batch line with such a value is that line's error while the rest of the batch runs.
 */
@QuarkusTest
@WithTestResource(TestPostgres.class)
@WithTestResource(TestKafka.class)
class HostileInputTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newHttpClient();
    static final String NUL = "\\u0000"; // as a client writes it in JSON

    @TestHTTPResource("/")
    URI base;

    private HttpResponse<String> send(String method, String path, byte[] body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).header("content-type", "application/json");
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> post(String path, String json) throws Exception {
        return send("POST", path, json.getBytes(StandardCharsets.UTF_8));
    }

    /** Asserts a 400 in OpenAI's shape naming {@code param} (and {@code code} when given); returns the error. */
    private JsonNode refused(HttpResponse<String> r, String param, String code) throws Exception {
        assertEquals(400, r.statusCode(), r.body());
        JsonNode error = JSON.readTree(r.body()).get("error");
        assertEquals(param, error.get("param").isNull() ? null : error.get("param").asText(), r.body());
        if (code != null) {
            assertEquals(code, error.get("code").asText(), r.body());
        }
        return error;
    }

    /** Asserts a 400 in Ollama's shape whose message names {@code field}; returns the message. */
    private String refusedOllama(HttpResponse<String> r, String field) throws Exception {
        assertEquals(400, r.statusCode(), r.body());
        String message = JSON.readTree(r.body()).get("error").asText();
        assertTrue(message.contains("(field " + field + ")"), message);
        return message;
    }

    @Test
    void aNulCharacterInAnyStringIsRefusedNamingTheFieldAndNothingIsStored() throws Exception {
        long before = TestDb.maxJobId();
        JsonNode e = refused(post("/v1/jobs", "{\"prompt\":\"Once" + NUL + "upon\"}"), "prompt", "invalid_characters");
        assertTrue(e.get("message").asText().contains("NUL"), e.toString());
        refused(post("/v1/jobs", "{\"prompt\":\"Once\",\"model\":\"stories" + NUL + "\"}"), "model", "invalid_characters");
        refused(post("/v1/completions", "{\"prompt\":\"Once\",\"stop\":[\"x\",\"y" + NUL + "\"]}"), "stop[1]",
                "invalid_characters");
        refused(post("/v1/chat/completions", "{\"messages\":[{\"role\":\"system\",\"content\":\"Be kind\"},"
                + "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"" + NUL + "\"}]}]}"),
                "messages[1].content[0].text", "invalid_characters");
        refused(post("/v1/jobs", "{\"prompt\":\"Once\",\"extra\":{\"k" + NUL + "\":1}}"), "extra", "invalid_characters");
        refusedOllama(post("/api/generate", "{\"model\":\"stories260K\",\"prompt\":\"" + NUL + "\"}"), "prompt");
        refusedOllama(post("/api/chat", "{\"model\":\"stories260K\",\"messages\":[{\"role\":\"user\",\"content\":\"a"
                + NUL + "\"}]}"), "messages[0].content");
        assertEquals(before, TestDb.maxJobId(), "no refused request stored a job");

        // In the URL: ids and filters are looked up in PostgreSQL.
        refused(send("GET", "/v1/jobs?status=queued%00", null), "status", "invalid_characters");
        refused(send("GET", "/v1/batches/batch_%00", null), "path", "invalid_characters");
        refused(send("GET", "/v1/files?purpose=batch%00", null), "purpose", "invalid_characters");
    }

    @Test
    void invalidUtf8IsRefusedNamingTheFieldNotReplaced() throws Exception {
        byte[][] bad = {
                {(byte) 0xFF},                           // never valid
                {(byte) 0xC0, (byte) 0xAF},              // overlong '/'
                {(byte) 0xED, (byte) 0xA0, (byte) 0x80}, // an encoded surrogate (CESU-8)
                {(byte) 0xE2, (byte) 0x82},              // truncated sequence
        };
        for (byte[] b : bad) {
            JsonNode e = refused(send("POST", "/v1/jobs", bytes("{\"prompt\":\"Once", b, " upon\"}")), "prompt",
                    "invalid_utf8");
            assertTrue(e.get("message").asText().contains("offset 15"), e.toString());
        }
        refused(send("POST", "/v1/chat/completions", bytes("{\"messages\":[{\"role\":\"user\",\"content\":\"ok\"},"
                + "{\"role\":\"user\",\"content\":\"", new byte[]{(byte) 0xFE}, "\"}]}")), "messages[1].content", "invalid_utf8");
        refusedOllama(send("POST", "/api/generate", bytes("{\"model\":\"stories260K\",\"prompt\":\"", new byte[]{(byte) 0x80},
                "\"}")), "prompt");
        // Outside any field: the body is named.
        JsonNode e = refused(send("POST", "/v1/jobs", bytes("", new byte[]{(byte) 0xFF}, "{\"prompt\":\"x\"}")), null,
                "invalid_utf8");
        assertTrue(e.get("message").asText().startsWith("request body is not valid UTF-8"), e.toString());
    }

    @Test
    void exactlyOneJsonValueWithoutDuplicateKeys() throws Exception {
        refused(post("/v1/jobs", "{\"prompt\":\"a\"} {\"prompt\":\"b\"}"), null, "invalid_json");
        JsonNode e = refused(post("/v1/jobs", "{\"prompt\":\"a\"}garbage"), null, "invalid_json");
        assertTrue(e.get("message").asText().contains("data after its JSON value"), e.toString());
        refused(post("/v1/jobs", "{\"prompt\":\"a\"}]"), null, "invalid_json");
        refused(post("/v1/jobs", "{\"prompt\":\"a\",\"max_tokens\":1,\"max_tokens\":999}"), null, "invalid_json");
        refused(post("/v1/jobs", "[{\"prompt\":\"a\"}]"), null, "invalid_json");
        assertEquals(202, post("/v1/jobs", "  {\"prompt\":\"a\",\"max_tokens\":1}\r\n\t ").statusCode());
    }

    @Test
    void everyAcceptedFieldIsTypeCheckedAndUnsupportedFeaturesAreRefusedByName() throws Exception {
        String chat = "\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]";
        String[][] openai = {
                // path, body, param, code (null: any)
                {"/v1/chat/completions", "{" + chat + ",\"tools\":\"x\"}", "tools", "invalid_value"},
                {"/v1/chat/completions", "{" + chat + ",\"tools\":[{\"type\":\"function\"}]}", "tools[0].function.name", "invalid_value"},
                {"/v1/chat/completions", "{" + chat + ",\"tools\":[{\"type\":\"web_search\"}]}", "tools[0].type", "unsupported_parameter"},
                {"/v1/chat/completions", "{" + chat + ",\"tool_choice\":\"required\"}", "tool_choice", "invalid_value"},
                {"/v1/chat/completions", "{" + chat + ",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\","
                        + "\"parameters\":{\"type\":\"string\",\"pattern\":\"x\"}}}],\"tool_choice\":\"required\"}",
                        "tools[0].function.parameters.pattern", "unsupported_parameter"},
                {"/v1/chat/completions", "{\"messages\":[{\"role\":\"assistant\",\"tool_calls\":[{\"function\":{}}]}]}",
                        "messages[0].tool_calls[0].function.name", "invalid_value"},
                {"/v1/chat/completions", "{" + chat + ",\"tool_choice\":5}", "tool_choice", "invalid_value"},
                {"/v1/chat/completions", "{" + chat + ",\"response_format\":\"json_object\"}", "response_format", "invalid_value"},
                {"/v1/chat/completions", "{" + chat + ",\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{}}}",
                        "response_format.json_schema.schema", "missing_required_parameter"},
                {"/v1/chat/completions", "{" + chat + ",\"response_format\":{\"type\":\"json_schema\",\"json_schema\":"
                        + "{\"name\":\"x\",\"schema\":{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\",\"pattern\":\"^a\"}}}}}}",
                        "response_format.json_schema.schema.properties.a.pattern", "unsupported_parameter"},
                {"/v1/completions", "{\"prompt\":\"Once\",\"response_format\":{\"type\":\"json_schema\",\"json_schema\":"
                        + "{\"schema\":{\"type\":\"integer\",\"minimum\":5}}}}", "response_format.json_schema.schema.minimum",
                        "unsupported_parameter"},
                {"/v1/jobs", "{\"prompt\":\"Once\",\"response_format\":{\"type\":\"json_schema\",\"schema\":{\"oneOf\":[]}}}",
                        "response_format.schema.oneOf", "unsupported_parameter"},
                {"/v1/jobs", "{\"prompt\":\"Once\",\"response_format\":{\"type\":\"yaml\"}}", "response_format.type", null},
                {"/v1/chat/completions", "{" + chat + ",\"response_format\":{\"type\":\"xml\"}}", "response_format.type", null},
                {"/v1/chat/completions", "{" + chat + ",\"stop\":5}", "stop", null},
                {"/v1/chat/completions", "{" + chat + ",\"stream_options\":\"x\"}", "stream_options", null},
                {"/v1/chat/completions", "{" + chat + ",\"stream\":true,\"stream_options\":{\"include_usage\":\"yes\"}}",
                        "stream_options.include_usage", null},
                {"/v1/chat/completions", "{" + chat + ",\"logit_bias\":{\"50256\":-100}}", "logit_bias", "unsupported_parameter"},
                {"/v1/chat/completions", "{" + chat + ",\"user\":5}", "user", null},
                {"/v1/chat/completions", "{" + chat + ",\"parallel_tool_calls\":\"no\"}", "parallel_tool_calls", null},
                {"/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\",\"name\":7}]}", "messages[0].name", null},
                {"/v1/chat/completions", "{" + chat + ",\"max_completion_tokens\":2147483647}", "max_completion_tokens",
                        "context_length_exceeded"},
                {"/v1/chat/completions", "{" + chat + ",\"stream\":\"yes\"}", "stream", null},
                {"/v1/completions", "{\"prompt\":\"Once\",\"max_tokens\":2147483647}", "max_tokens", "context_length_exceeded"},
                {"/v1/completions", "{\"prompt\":\"Once\",\"max_tokens\":\"16\"}", "max_tokens", null},
                {"/v1/completions", "{\"prompt\":\"Once\",\"seed\":1.5}", "seed", null},
                {"/v1/completions", "{\"prompt\":5}", "prompt", null},
                {"/v1/jobs", "{\"prompt\":\"Once\",\"max_tokens\":2147483647}", "max_tokens", "context_length_exceeded"},
                {"/v1/jobs", "{\"prompt\":\"Once\",\"temperature\":\"hot\"}", "temperature", null},
        };
        long before = TestDb.maxJobId();
        for (String[] c : openai) {
            JsonNode e = refused(post(c[0], c[1]), c[2], c[3]);
            if ("context_length_exceeded".equals(c[3])) {
                // The limit is named, not silently applied.
                assertTrue(e.get("message").asText().contains("2147483647") && e.get("message").asText().contains("at most"),
                        e.toString());
            }
        }
        String[][] ollama = {
                {"/api/generate", "{\"prompt\":\"Once\",\"format\":\"yaml\"}", "format"},
                {"/api/generate", "{\"prompt\":\"Once\",\"format\":{\"type\":\"object\",\"properties\":{\"d\":{\"format\":\"date\"}}}}",
                        "format.properties.d.format"},
                {"/api/chat", "{" + chat + ",\"format\":{\"type\":\"object\",\"minProperties\":1}}", "format.minProperties"},
                {"/api/generate", "{\"prompt\":\"Once\",\"format\":5}", "format"},
                {"/api/generate", "{\"prompt\":\"Once\",\"options\":\"x\"}", "options"},
                {"/api/generate", "{\"prompt\":\"Once\",\"options\":{\"num_predict\":\"x\"}}", "options.num_predict"},
                {"/api/generate", "{\"prompt\":\"Once\",\"options\":{\"num_predict\":2147483647}}", "options.num_predict"},
                {"/api/generate", "{\"prompt\":\"Once\",\"options\":{\"typical_p\":0.5}}", "options.typical_p"},
                {"/api/generate", "{\"prompt\":\"Once\",\"options\":{\"num_ctx\":\"big\"}}", "options.num_ctx"},
                {"/api/generate", "{\"prompt\":\"Once\",\"images\":[\"aGk=\"]}", "images"},
                {"/api/generate", "{\"prompt\":\"Once\",\"context\":[1,2]}", "context"},
                {"/api/generate", "{\"prompt\":\"Once\",\"template\":\"{{ .Prompt }}\"}", "template"},
                {"/api/generate", "{\"prompt\":\"Once\",\"keep_alive\":true}", "keep_alive"},
                {"/api/generate", "{\"prompt\":\"Once\",\"raw\":\"yes\"}", "raw"},
                {"/api/chat", "{" + chat + ",\"tools\":\"x\"}", "tools"},
                {"/api/chat", "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\",\"images\":[\"aGk=\"]}]}", "messages[0].images"},
        };
        for (String[] c : ollama) {
            String message = refusedOllama(post(c[0], c[1]), c[2]);
            if (c[2].startsWith("format.")) {
                assertTrue(message.contains(c[2].substring(c[2].lastIndexOf('.') + 1)), "names the keyword: " + message);
            }
        }
        assertEquals(before, TestDb.maxJobId(), "no refused request stored a job");

        // The same fields with values Bunshin honours are accepted.
        var tail = TestDb.playNext("chat", before, "stop", "Hi");
        HttpResponse<String> ok = post("/v1/chat/completions", "{" + chat + ",\"tools\":[],\"tool_choice\":\"none\","
                + "\"response_format\":{\"type\":\"text\"},\"stream_options\":null,\"user\":\"u1\",\"logit_bias\":{}}");
        assertEquals(200, ok.statusCode(), ok.body());
        tail.get(10, TimeUnit.SECONDS);
        tail = TestDb.playNext("ollama-generate", TestDb.maxJobId(), "stop", "Hi");
        ok = post("/api/generate", "{\"prompt\":\"Once\",\"stream\":false,\"format\":\"\",\"keep_alive\":\"5m\","
                + "\"options\":{\"num_ctx\":2048,\"typical_p\":1.0,\"num_predict\":-1}}");
        assertEquals(200, ok.statusCode(), ok.body());
        long job = tail.get(10, TimeUnit.SECONDS);
        // num_predict < 0 (and only that) fills the context (stories260K's 2048) after the prompt.
        assertEquals("2048", TestDb.query("SELECT (max_tokens + cardinality(prompt_tokens))::text FROM jobs WHERE id = ?", job));
    }

    @Test
    void lastEventIdMustBeAPosition() throws Exception {
        long id = JobApiTest.submit("{\"prompt\":\"Once\",\"max_tokens\":2}");
        for (String bad : List.of("-5", "abc", "1.5", "99999999999")) {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(base.resolve("/v1/jobs/" + id + "/events"))
                    .header("Last-Event-ID", bad).GET().build(), HttpResponse.BodyHandlers.ofString());
            refused(r, "Last-Event-ID", null);
        }
    }

    @Test
    void anInternalErrorAnswersAnIdAndNoInternals() throws Exception {
        TestDb.execute("ALTER TABLE files RENAME TO files_elsewhere");
        HttpResponse<String> r;
        try {
            r = send("GET", "/v1/files", null);
        } finally {
            TestDb.execute("ALTER TABLE files_elsewhere RENAME TO files");
        }
        assertEquals(500, r.statusCode(), r.body());
        JsonNode error = JSON.readTree(r.body()).get("error");
        assertEquals("internal error", error.get("message").asText());
        assertEquals("server_error", error.get("type").asText());
        assertTrue(error.get("id").asText().matches("[0-9a-f]{12}"), r.body());
        for (String leak : List.of("files", "relation", "SQL", "Exception", "org.", "select")) {
            assertFalse(r.body().contains(leak), "500 body leaks '" + leak + "': " + r.body());
        }
        assertEquals(200, send("GET", "/v1/files", null).statusCode(), "the table is back");
    }

    @Test
    void aBatchLineWithNulOrBadUtf8IsThatLinesErrorAndTheRestRuns() throws Exception {
        ByteArrayOutputStream file = new ByteArrayOutputStream();
        file.writeBytes(line("ok-1", "Once upon a time"));
        file.writeBytes(line("nul", "Once" + NUL));
        file.writeBytes(bytes("{\"custom_id\":\"utf8\",\"url\":\"/v1/jobs\",\"body\":{\"prompt\":\"x", new byte[]{(byte) 0xC3},
                "\"}}\n"));
        file.writeBytes(bytes("{\"custom_id\":\"trailing\",\"url\":\"/v1/jobs\",\"body\":{\"prompt\":\"x\"}} {}\n",
                new byte[0], ""));
        file.writeBytes(line("ok-2", "The end"));
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(base.resolve("/v1/batches"))
                .header("content-type", "application/jsonl")
                .POST(HttpRequest.BodyPublishers.ofByteArray(file.toByteArray())).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(202, r.statusCode(), r.body());
        JsonNode batch = JSON.readTree(r.body());
        assertEquals(2, batch.at("/counts/accepted").asInt(), r.body());
        assertEquals(3, batch.at("/counts/invalid").asInt(), r.body());
        String id = batch.get("id").asText();

        List<JsonNode> errors = BatchApiTest.lines(send("GET", "/v1/batches/" + id + "/errors", null).body());
        assertEquals(List.of(2, 3, 4), errors.stream().map(e -> e.get("line").asInt()).toList());
        assertEquals(List.of("nul", "utf8", "trailing"), errors.stream().map(e -> e.get("custom_id").asText()).toList());
        assertEquals("body.prompt", errors.get(0).at("/error/param").asText());
        assertEquals("invalid_characters", errors.get(0).at("/error/code").asText());
        assertEquals("body.prompt", errors.get(1).at("/error/param").asText());
        assertEquals("invalid_utf8", errors.get(1).at("/error/code").asText());
        assertEquals("invalid_json", errors.get(2).at("/error/code").asText());
        assertEquals("Once upon a time", TestDb.query(
                "SELECT prompt FROM jobs WHERE batch_id = ? AND custom_id = 'ok-1' AND status = 'queued'", id));
    }

    @Test
    void batchOutputIsStreamedInPagesInInputOrder() throws Exception {
        // The test profile reads 3 lines a page: 8 lines are three pages.
        StringBuilder file = new StringBuilder();
        for (int i = 1; i <= 8; i++) {
            file.append(new String(line("p" + i, "Once " + i), StandardCharsets.UTF_8));
        }
        String id = JSON.readTree(HTTP.send(HttpRequest.newBuilder(base.resolve("/v1/batches"))
                .header("content-type", "application/jsonl").POST(HttpRequest.BodyPublishers.ofString(file.toString()))
                .build(), HttpResponse.BodyHandlers.ofString()).body()).get("id").asText();
        List<Long> jobs = BatchApiTest.jobIds(id);
        for (int k = 0; k < jobs.size(); k++) {
            if (k == 4) {
                continue; // still queued: not in the output yet
            }
            TestDb.start(jobs.get(k));
            TestDb.token(jobs.get(k), 0, 7, "t" + (k + 1));
            TestDb.finish(jobs.get(k), "length");
        }
        List<JsonNode> out = BatchApiTest.lines(send("GET", "/v1/batches/" + id + "/output", null).body());
        assertEquals(List.of("p1", "p2", "p3", "p4", "p6", "p7", "p8"), out.stream().map(o -> o.get("custom_id").asText()).toList());
        assertEquals("t8", out.getLast().at("/response/body/text").asText());
    }

    private static byte[] line(String customId, String promptJson) {
        return ("{\"custom_id\":\"" + customId + "\",\"method\":\"POST\",\"url\":\"/v1/jobs\",\"body\":{\"prompt\":\""
                + promptJson + "\",\"max_tokens\":2}}\n").getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] bytes(String before, byte[] middle, String after) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(before.getBytes(StandardCharsets.UTF_8));
        out.writeBytes(middle);
        out.writeBytes(after.getBytes(StandardCharsets.UTF_8));
        return out.toByteArray();
    }
}
