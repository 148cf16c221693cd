package dev.bunshin.cli;

import dev.bunshin.engine.EngineOptions;
import dev.bunshin.engine.Generator;
import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.engine.sample.Sampler;
import dev.bunshin.engine.sample.SamplingParams;
import dev.bunshin.engine.sample.grammar.Json;
import dev.bunshin.engine.sample.grammar.ResponseFormat;
import dev.bunshin.engine.sample.grammar.TokenConstraint;
import dev.bunshin.engine.sample.grammar.TokenConstraints;
import dev.bunshin.engine.sample.grammar.TokenTrie;
import dev.bunshin.engine.tokenizer.Tokenizer;
import dev.bunshin.models.catalog.ModelCatalog;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Stream;

/**
 * {@code ./bunshin bench structured MODEL [--tokens 200] [--reps 5] [--threads 1] [--vocab DIR]}: what constrained
 * sampling costs.
 * <ol>
 *   <li>The same job (same prompt, greedy, the same number of tokens) with and without a JSON schema, alternating,
 *   through the Java engine and the tail's own lazy choice ({@link TokenConstraint#choose}): tokens/s of each, the
 *   ratio of the medians, and how many tokens needed the whole-vocabulary mask. The schema is an array of strings
 *   (long documents); when the document completes first, free text is timed over as many tokens.</li>
 *   <li>With {@code --vocab DIR} (metadata-only tokenizer GGUFs, e.g. shared/models/vocab): per vocabulary, the
 *   trie's build time and the time of one full mask in three places of a document (its start, inside a string,
 *   after a member), and of the one-token check; medians.</li>
 * </ol>
 */
final class StructuredBench {
    private StructuredBench() {}

    static final String SCHEMA = "{\"type\":\"object\",\"properties\":{\"story\":{\"type\":\"array\","
            + "\"items\":{\"type\":\"string\"}}},\"required\":[\"story\"],\"additionalProperties\":false}";

    static int run(String[] argv, PrintStream out, PrintStream err) throws Exception {
        Args a = Args.parse("bench structured", argv, ModelArgs.with("tokens", "reps", "threads", "vocab"), Set.of());
        String model = a.positional(0, "MODEL (a .gguf path or a model name)");
        a.noMorePositional(1);
        int nTokens = a.getInt("tokens", 200, 2);
        int reps = a.getInt("reps", 5, 1);
        int threads = a.getInt("threads", 1, 1);
        ModelCatalog.Entry e = ModelArgs.resolve(a, model);
        out.printf(Locale.ROOT, "bench structured %s: %d tokens greedy, median of %d alternating runs, %d thread(s); CPU: %s%n",
                e.id(), nTokens, reps, threads, ClusterBench.cpuFlags());
        String format = ResponseFormat.jsonSchema(Json.parse(SCHEMA)).toJson();
        try (GgufFile file = GgufFile.open(e.path());
             Generator gen = Generator.load(file, 1, new EngineOptions(threads, Math.min(2048, nTokens + 64), 4))) {
            TokenConstraints constraints = new TokenConstraints(gen.tokenizer());
            long t0 = System.nanoTime();
            constraints.trie();
            out.printf(Locale.ROOT, "  trie of %d tokens built in %.1f ms (once per model)%n",
                    gen.tokenizer().vocabSize(), (System.nanoTime() - t0) / 1e6);
            int[] prompt = gen.tokenizer().encode("Once upon a time", true, true);
            run(gen, prompt, nTokens, null); // warm-up
            run(gen, prompt, nTokens, constraints.forJob(format, new int[0]));
            List<Double> free = new ArrayList<>();
            List<Double> constrained = new ArrayList<>();
            Run last = null;
            for (int r = 0; r < reps; r++) {
                // the document may complete before the budget: free text then gets as many tokens (the KV cache
                // grows per token, so equal lengths are the fair comparison)
                last = run(gen, prompt, nTokens, constraints.forJob(format, new int[0]));
                constrained.add(last.tokensPerSecond());
                free.add(run(gen, prompt, last.tokens(), null).tokensPerSecond());
            }
            double f = BenchCommand.median(free);
            double c = BenchCommand.median(constrained);
            out.printf(Locale.ROOT, "  free text:   %8.1f tok/s  (as many tokens)%n", f);
            out.printf(Locale.ROOT, "  json schema: %8.1f tok/s  (%d tokens, %d of them needed the full mask)%n",
                    c, last.tokens(), last.masks());
            out.printf(Locale.ROOT, "  ratio schema/free: %.3f%n", c / f);
            out.printf(Locale.ROOT, "  document: %s%n", abbreviate(last.text()));
        }
        if (a.has("vocab")) vocabularies(Path.of(a.get("vocab", ".")), reps, out);
        return 0;
    }

    record Run(int tokens, int masks, double tokensPerSecond, String text) {}

    /** Greedy generation of {@code n} tokens (EOG refused: both runs go the whole way), timed from the first. */
    private static Run run(Generator gen, int[] prompt, int n, TokenConstraint constraint) {
        if (n < 2) throw new IllegalStateException("the document completed after " + n + " token(s): nothing to time");
        Sampler sampler = new Sampler(SamplingParams.GREEDY);
        Tokenizer tok = gen.tokenizer();
        long seq = 1;
        float[] logits = gen.forward(seq, 0, prompt);
        StringBuilder text = new StringBuilder();
        int masks = 0;
        int produced = 0;
        long t0 = System.nanoTime();
        try {
            for (int g = 0; g < n; g++) {
                int token;
                if (constraint == null) {
                    float[] l = logits.clone();
                    for (int t = 0; t < l.length; t++) if (tok.isEndOfGeneration(t)) l[t] = Float.NEGATIVE_INFINITY;
                    token = sampler.choose(l, g);
                } else {
                    TokenConstraint.Choice c = constraint.choose(sampler, logits, g);
                    token = c.token();
                    if (c.masked() != null) masks++;
                    constraint.accept(token);
                    if (constraint.complete()) {
                        produced++;
                        break;
                    }
                }
                produced++;
                text.append(new String(tok.tokenBytes(token), StandardCharsets.UTF_8));
                logits = gen.forward(seq, prompt.length + g, new int[]{token});
            }
        } finally {
            gen.free(seq);
        }
        double seconds = (System.nanoTime() - t0) / 1e9; // n forward passes (the last one unused) and n choices
        return new Run(produced, masks, produced / seconds, text.toString());
    }

    private static String abbreviate(String s) {
        s = s.replace("\n", "\\n");
        return s.length() <= 100 ? s : s.substring(0, 100) + "…";
    }

    /** Full-mask and one-token-check times over each vocabulary in {@code dir}. */
    private static void vocabularies(Path dir, int reps, PrintStream out) throws Exception {
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(p -> p.toString().endsWith(".gguf")).sorted().toList();
        }
        String format = ResponseFormat.jsonSchema(Json.parse("{\"type\":\"object\",\"properties\":{\"name\":"
                + "{\"type\":\"string\"},\"tags\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}}},"
                + "\"required\":[\"name\",\"tags\"],\"additionalProperties\":false}")).toJson();
        String[] places = {"", "{\"name\": \"Once upon a ti", "{\"name\": \"Tim\", "};
        String[] names = {"start", "in a string", "after a member"};
        out.printf(Locale.ROOT, "  %-28s %7s %8s %10s %14s %16s %12s%n", "vocabulary", "tokens", "trie ms",
                "mask start", "mask in string", "mask after member", "check token");
        for (Path p : files) {
            Tokenizer tok;
            try (GgufFile f = GgufFile.open(p)) {
                tok = Tokenizer.fromGguf(f);
            } catch (RuntimeException e) {
                continue; // a vocabulary this tokenizer does not read
            }
            long t0 = System.nanoTime();
            TokenTrie trie = TokenTrie.of(tok);
            double trieMs = (System.nanoTime() - t0) / 1e6;
            TokenConstraints constraints = new TokenConstraints(trie);
            double[] maskUs = new double[places.length];
            double checkUs = 0;
            for (int k = 0; k < places.length; k++) {
                List<Double> times = new ArrayList<>();
                for (int r = 0; r < reps + 2; r++) {
                    TokenConstraint c = at(constraints, format, tok, places[k]);
                    long s = System.nanoTime();
                    c.mask();
                    if (r >= 2) times.add((System.nanoTime() - s) / 1e3); // two warm-ups
                }
                maskUs[k] = BenchCommand.median(times);
            }
            TokenConstraint c = at(constraints, format, tok, places[1]);
            int probe = tok.encode(" upon", false, false)[0];
            long s = System.nanoTime();
            for (int i = 0; i < 10_000; i++) c.allows(probe);
            checkUs = (System.nanoTime() - s) / 1e3 / 10_000;
            out.printf(Locale.ROOT, "  %-28s %7d %8.1f %8.0f µs %12.0f µs %14.0f µs %9.2f µs%n",
                    p.getFileName().toString().replace("ggml-vocab-", "").replace(".gguf", ""), tok.vocabSize(),
                    trieMs, maskUs[0], maskUs[1], maskUs[2], checkUs);
        }
        out.printf(Locale.ROOT, "  (places: %s)%n", Arrays.toString(names));
    }

    /** A constraint that has read {@code text} (as the tokenizer spells it). */
    private static TokenConstraint at(TokenConstraints constraints, String format, Tokenizer tok, String text) {
        TokenConstraint c = constraints.forJob(format, new int[0]);
        c.acceptBytes(text.getBytes(StandardCharsets.UTF_8));
        return c;
    }
}
