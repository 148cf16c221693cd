package dev.bunshin.cli;

import dev.bunshin.engine.EngineOptions;
import dev.bunshin.engine.Generator;
import dev.bunshin.engine.StageInput;
import dev.bunshin.engine.gguf.GgufFile;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The single-node baseline of {@code bench cluster}, run as its own JVM pinned to one node's cores: the whole
 * model in one process serving J jobs the way a user would without Bunshin. All J prompts arrive at once; each is
 * prefilled in turn (its first token is out when its prefill returns), then all J decode together, one batched
 * forward call per step. Prints one line per job count: {@code ROW jobs tokens seconds ttft_ms,ttft_ms,...},
 * then {@code PEAK_RSS bytes}.
 *
 * <p>Arguments: {@code MODEL THREADS TOKENS JOBS[,JOBS...] [BACKEND]} ({@code java}, the default, or {@code llama.cpp}:
 * libllama running the whole model with parallel sequences in one context); a short round runs first as warm-up.
 */
final class SingleNodeRun {
    private SingleNodeRun() {}

    public static void main(String[] args) throws Exception {
        Path model = Path.of(args[0]);
        int threads = Integer.parseInt(args[1]);
        int nTokens = Integer.parseInt(args[2]);
        int[] jobCounts = PipelineBench.jobCounts(args[3]);
        String backend = args.length > 4 ? args[4] : "java";
        int maxJobs = Arrays.stream(jobCounts).max().orElseThrow();
        try (GgufFile f = GgufFile.open(model);
             Generator g = Backends.generator(backend, f, 1, new EngineOptions(threads, 256 + nTokens, maxJobs + 2))) {
            round(g, warmupJobs(jobCounts), warmupTokens(nTokens), 1_000_000); // warm-up: JIT, KV buffers
            long seq = 2_000_000;
            for (int jobs : jobCounts) {
                double[] r = round(g, jobs, nTokens, seq);
                seq += jobs;
                StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "ROW %d %d %.6f ", jobs, jobs * nTokens, r[0]));
                for (int j = 1; j < r.length; j++) line.append(j > 1 ? "," : "").append(String.format(Locale.ROOT, "%.3f", r[j]));
                System.out.println(line);
                System.out.flush();
            }
        }
        System.out.println("PEAK_RSS " + dev.bunshin.launcher.SimulatedHosts.peakRssBytes(ProcessHandle.current().pid()));
    }

    /**
     * Jobs of the warm-up round (here and in the cluster): as many as the largest row, so that every process of the
     * stack (the workers, the broker, the submitter, PostgreSQL) has run the paths of that load long enough to be
     * compiled. With 8 jobs of 16 tokens the cluster's first 32-job round ran at 46 tok/s and the next at 55, while
     * the single node moved 2 % (docs/benchmarks.md): the rows measured a service still warming up.
     */
    static int warmupJobs(int[] jobCounts) {
        return Arrays.stream(jobCounts).max().orElseThrow();
    }

    static int warmupTokens(int nTokens) {
        return Math.min(32, nTokens);
    }

    /** @return {seconds for all jobs, then each job's time to first token in ms} */
    static double[] round(Generator g, int jobs, int nTokens, long firstSeq) {
        long t0 = System.nanoTime();
        double[] out = new double[1 + jobs];
        int[] next = new int[jobs];
        int[] pos = new int[jobs];
        for (int j = 0; j < jobs; j++) {
            int[] prompt = g.tokenizer().encode(PipelineBench.PROMPT + " " + j, true, false); // the service's prompts
            next[j] = BenchCommand.argmax(g.forward(firstSeq + j, 0, prompt));
            pos[j] = prompt.length;
            out[1 + j] = (System.nanoTime() - t0) / 1e6;
        }
        for (int step = 1; step < nTokens; step++) {
            List<StageInput> in = new ArrayList<>(jobs);
            for (int j = 0; j < jobs; j++) in.add(StageInput.ofTokens(firstSeq + j, pos[j]++, new int[] {next[j]}));
            List<float[]> logits = g.forwardBatch(in);
            for (int j = 0; j < jobs; j++) next[j] = BenchCommand.argmax(logits.get(j));
        }
        out[0] = (System.nanoTime() - t0) / 1e9;
        for (int j = 0; j < jobs; j++) g.free(firstSeq + j);
        return out;
    }
}
