package dev.bunshin.launcher;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class UpOptionsTest {

    @Test
    void defaults() {
        UpOptions o = UpOptions.parse(new String[0]);
        assertNull(o.model());
        assertEquals(2, o.workers());
        assertEquals(8080, o.port());
        assertEquals(Path.of(".bunshin"), o.dataDir());
        assertNull(o.kafka());
        assertNull(o.database());
    }

    @Test
    void bothSpellingsOfValues() {
        UpOptions o = UpOptions.parse(new String[] {"--workers=3", "--kafka", "k1:9092", "--database",
                "jdbc:postgresql://db:5432/bunshin", "--db-user", "u", "--db-password=p", "--threads", "4"});
        assertEquals(3, o.workers());
        assertEquals("k1:9092", o.kafka());
        assertEquals("u", o.dbUser());
        assertEquals("p", o.dbPassword());
        assertEquals(4, o.threads());
    }

    @Test
    void badArgumentsNameTheOffender() {
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> UpOptions.parse(new String[] {"--workers", "two"})).getMessage().contains("two"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> UpOptions.parse(new String[] {"--nope", "1"})).getMessage().contains("--nope"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> UpOptions.parse(new String[] {"--workers", "0"})).getMessage().contains("0"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> UpOptions.parse(new String[] {"--kafka", "nohostport"})).getMessage().contains("nohostport"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> UpOptions.parse(new String[] {"--db-user", "u"})).getMessage().contains("--database"));
    }

    @Test
    void adminKeysAddUpAndGoToTheSubmitter() {
        UpOptions o = UpOptions.parse(new String[] {"--api-key", "tenant", "--admin-key", "a1", "--admin-key=a2"});
        assertEquals("a1,a2", o.adminKeys());
        assertEquals("tenant", o.apiKey());
        assertEquals(null, UpOptions.parse(new String[0]).adminKeys());
        assertEquals("--admin-key must not be empty", assertThrows(IllegalArgumentException.class,
                () -> UpOptions.parse(new String[] {"--admin-key", " "})).getMessage());
    }

    @Test
    void upRejectsBadUsageWithExitCode2() {
        assertEquals(2, Up.run(new String[] {"--workers"}));
    }

    @Test
    void sharedModeOptionsAreParsedAndCheckedByName() {
        UpOptions o = UpOptions.parse(new String[] {"--bind", "0.0.0.0", "--advertise", "box1.lan", "--kafka-port",
                "19092", "--db-port=15432", "--api-key", "k"});
        assertEquals("0.0.0.0", o.bind());
        assertEquals("box1.lan", o.advertise());
        assertEquals(19092, o.kafkaPort());
        assertEquals(15432, o.dbPort());
        assertEquals("k", o.apiKey());
        assertEquals("127.0.0.1", UpOptions.parse(new String[0]).bind());
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> UpOptions.parse(new String[] {"--kafka-port", "70000"})).getMessage()
                .contains("--kafka-port must be a port in 0..65535: 70000"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> UpOptions.parse(new String[] {"--db-port", "5433", "--database", "jdbc:postgresql://h/db"}))
                .getMessage().contains("--db-port"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> UpOptions.parse(new String[] {"--advertise", "a b"})).getMessage().contains("\"a b\""));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> UpOptions.parse(new String[] {"--bind", "no-such-host.invalid"}).binding()).getMessage()
                .contains("--bind no-such-host.invalid"));
    }

    @Test
    void backendIsJavaUnlessToldAndOnlyAKnownOne() {
        assertEquals("java", UpOptions.parse(new String[0]).backend());
        assertEquals("llama.cpp", UpOptions.parse(new String[] {"--backend", "llama.cpp"}).backend());
        String msg = assertThrows(IllegalArgumentException.class,
                () -> UpOptions.parse(new String[] {"--backend", "cuda"})).getMessage();
        assertTrue(msg.contains("--backend") && msg.contains("cuda") && msg.contains("llama.cpp"), msg);
        assertEquals("llama.cpp", LocalStack.workerConfig("w", 1, 1, "llama.cpp").get("bunshin.worker.backend"));
    }

    @Test
    void llamaCppWorkersRunWithC1OnlyUnlessToldOtherwise() {
        var llama = LocalStack.workerConfig("w", 1, 1, "llama.cpp");
        var engine = LocalStack.workerConfig("w", 1, 1, "java");
        assertEquals(List.of("-XX:TieredStopAtLevel=1"), QuarkusApp.jitFlags(llama, null));
        assertEquals(List.of(), QuarkusApp.jitFlags(engine, null), "the Vector API engine needs C2");
        assertEquals(List.of(), QuarkusApp.jitFlags(Map.of("quarkus.http.port", "1"), "c1"),
                "not a stage worker");
        assertEquals(List.of(), QuarkusApp.jitFlags(llama, "tiered"));
        assertEquals(List.of("-XX:TieredStopAtLevel=1"), QuarkusApp.jitFlags(engine, " C1 "));
        String msg = assertThrows(IllegalArgumentException.class, () -> QuarkusApp.jitFlags(llama, "c2")).getMessage();
        assertTrue(msg.contains(QuarkusApp.JIT_ENV) && msg.contains("'c2'"), msg);
    }

    @Test
    void javaWorkersAskForHugePagesWhereTheKernelGrantsThemOnRequest(@TempDir Path dir) throws Exception {
        var engine = LocalStack.workerConfig("w", 1, 1, "java");
        var llama = LocalStack.workerConfig("w", 1, 1, "llama.cpp");
        Path madvise = Files.writeString(dir.resolve("madvise"), "always [madvise] never\n");
        Path always = Files.writeString(dir.resolve("always"), "[always] madvise never\n");
        Path never = Files.writeString(dir.resolve("never"), "always madvise [never]\n");
        assertEquals(List.of("-XX:+UseTransparentHugePages"), QuarkusApp.hugePageFlags(engine, madvise));
        assertEquals(List.of("-XX:+UseTransparentHugePages"), QuarkusApp.hugePageFlags(engine, always));
        assertEquals(List.of(), QuarkusApp.hugePageFlags(engine, never));
        assertEquals(List.of(), QuarkusApp.hugePageFlags(engine, dir.resolve("missing")), "not Linux: the JVM would refuse the flag");
        assertEquals(List.of(), QuarkusApp.hugePageFlags(llama, madvise), "llama.cpp allocates its own weights");
        assertEquals(List.of(), QuarkusApp.hugePageFlags(Map.of("quarkus.http.port", "1"), madvise), "not a stage worker");
    }
}
