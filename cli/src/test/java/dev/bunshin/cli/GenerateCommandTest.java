package dev.bunshin.cli;

import dev.bunshin.engine.TestModels;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GenerateCommandTest {

    private static Cli generate(int stages, String prompt, String... more) {
        List<String> args = new java.util.ArrayList<>(List.of("generate", "--model", TestModels.stories260K().toString(),
                "--prompt", prompt, "--max-tokens", "64", "--temperature", "0", "--threads", "1",
                "--stages", Integer.toString(stages)));
        args.addAll(List.of(more));
        Cli r = Cli.run(args.toArray(String[]::new));
        assertEquals(0, r.status(), r.toString());
        return r;
    }

    /** llama.cpp's greedy continuation of "Once upon a time", as recorded in the models' README. */
    private static String llamaCppText() throws Exception {
        Path readme = TestModels.stories260K().resolveSibling("README.md");
        List<String> lines = Files.readAllLines(readme);
        int i = 0;
        while (!lines.get(i).contains("64 generated tokens, greedy")) i++;
        i++;
        while (lines.get(i).isBlank()) i++;
        StringBuilder sb = new StringBuilder();
        for (; i < lines.size() && lines.get(i).startsWith("    "); i++) {
            if (!sb.isEmpty()) sb.append('\n');
            sb.append(lines.get(i).substring(4));
        }
        return sb.toString();
    }

    @Test
    void greedyTextEqualsLlamaCpp() throws Exception {
        Cli r = generate(1, "Once upon a time");
        assertEquals(llamaCppText() + "\n", r.out());
        assertTrue(r.err().contains("prompt: 5 tokens"), r.err());
        assertTrue(r.err().contains("generated 64 tokens"), r.err());
    }

    @Test
    void threeLlamaCppStagesPrintTheModelsReadmeText() throws Exception {
        Cli r = generate(3, "Once upon a time", "--backend", "llama.cpp");
        assertEquals(llamaCppText() + "\n", r.out());
        assertTrue(r.err().contains("on llama.cpp"), r.err());
    }

    @Test
    void idsAreTheSameOnBothBackends() {
        String java = generate(1, "Lily and Ben went to the park", "--ids").out();
        String llama = generate(2, "Lily and Ben went to the park", "--ids", "--backend", "llama.cpp").out();
        assertTrue(java.strip().matches("[0-9]+( [0-9]+){63}"), java);
        assertEquals(java, llama);
    }

    @Test
    void threeStagesPrintTheSameTextAsOne() {
        for (String prompt : List.of("Once upon a time", "The cat sat", "Lily and Ben went to the park")) {
            String one = generate(1, prompt).out();
            String three = generate(3, prompt).out();
            assertEquals(one, three, "prompt " + prompt);
            assertTrue(one.length() > 20, one);
        }
    }

    @Test
    void samplingIsReproducibleWithASeed() {
        String a = generate(2, "Once upon a time", "--temperature", "0.9", "--seed", "7").out();
        String b = generate(1, "Once upon a time", "--temperature", "0.9", "--seed", "7").out();
        assertEquals(a, b);
    }

    @Test
    void stopsAtMaxTokens() {
        Cli r = generate(1, "Once upon a time", "--max-tokens", "3");
        assertTrue(r.err().contains("generated 3 tokens"), r.err());
    }

    @Test
    void stopsAtTheEndOfTheContext() {
        // "Once upon a time" is 5 tokens with BOS; 10 positions leave room for 6 generated tokens.
        Cli r = generate(1, "Once upon a time", "--context", "10");
        assertTrue(r.err().contains("generated 6 tokens") && r.err().contains("stopped at the end of the context"),
                r.err());
    }

    @Test
    void promptLongerThanTheContextIsRefused() {
        Cli r = Cli.run("generate", "--model", TestModels.stories260K().toString(), "--prompt", "Once upon a time",
                "--context", "4");
        assertEquals(1, r.status(), r.toString());
        assertTrue(r.err().contains("the prompt has 5 tokens but the context holds 4 positions"), r.toString());
    }
}
