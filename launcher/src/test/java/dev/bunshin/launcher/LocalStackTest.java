package dev.bunshin.launcher;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LocalStackTest {

    @Test
    void upStartsKafkaPostgresAndEveryAppWithItsConfigAndCloseLeavesNoProcess() throws Exception {
        Path dir = TestDirs.fresh("stack");
        Path home = FakeApp.checkout(dir);
        Path model = Files.writeString(dir.resolve("tiny-model.gguf"), "not read by the launcher");
        int apiPort = Ports.free();
        String previousHome = System.getProperty("bunshin.home");
        System.setProperty("bunshin.home", home.toString());
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        List<Long> pids = new ArrayList<>();
        try (LocalStack stack = LocalStack.start(UpOptions.parse(new String[] {
                "--model", model.toString(), "--workers", "2", "--port", Integer.toString(apiPort),
                "--data-dir", dir.resolve("data").toString(), "--threads", "1"}),
                new PrintStream(console, true, StandardCharsets.UTF_8))) {
            assertEquals("http://127.0.0.1:" + apiPort, stack.apiUrl());
            assertEquals("tiny-model", stack.modelId());
            for (String log : List.of("kafka", "postgres", "scheduler", "submitter", "worker-1", "worker-2")) {
                assertTrue(Files.exists(stack.logs().resolve(log + ".log")), log + ".log");
            }
            String submitterJdbc = config(apiPort, "quarkus.datasource.jdbc.url");
            assertTrue(submitterJdbc.startsWith("jdbc:postgresql://127.0.0.1:"), submitterJdbc);
            assertTrue(config(apiPort, "kafka.bootstrap.servers").startsWith("127.0.0.1:"));
            assertEquals(model.toAbsolutePath().toString(), config(apiPort, "bunshin.model"));
            assertEquals("tiny-model", config(apiPort, "bunshin.model-id"));
            assertEquals(null, stack.supervise(), "nothing died");
            ProcessHandle.current().descendants().forEach(h -> pids.add(h.pid()));
            // Kafka, PostgreSQL (plus its backends), scheduler, submitter and two workers.
            assertTrue(pids.size() >= 6, "child processes: " + pids);
        } finally {
            if (previousHome == null) {
                System.clearProperty("bunshin.home");
            } else {
                System.setProperty("bunshin.home", previousHome);
            }
        }
        for (long pid : pids) {
            TestDirs.assertGone(pid);
        }
        String out = console.toString(StandardCharsets.UTF_8);
        assertTrue(out.contains("Starting worker-2"), out);
    }

    @Test
    void workerMemoryIsTwiceItsShareOfTheModelPlusHeadroomAtLeastOneGiB() {
        assertEquals(1, LocalStack.workerMemoryGiB(1 << 20, 2));
        assertEquals(5, LocalStack.workerMemoryGiB(4L << 30, 2)); // 4 GiB + 0.5 GiB, rounded up
    }

    private static String config(int port, String key) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + port + "/config?key=" + key)).build(),
                HttpResponse.BodyHandlers.ofString());
        return response.body();
    }
}
