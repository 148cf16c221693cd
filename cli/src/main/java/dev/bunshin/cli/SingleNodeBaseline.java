package dev.bunshin.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The best single node of {@code bench cluster}: the whole model on one node's cores, serving the same jobs the
 * way a user would without Bunshin: one process on those cores, all prompts at once, prefilled in turn, then one
 * batched decode call per step for every job ({@link SingleNodeRun}) — on our engine, or on libllama with parallel
 * sequences in one llama.cpp context.
 */
interface SingleNodeBaseline {

    /** What the baseline measured for one job count, in the service rows' terms. */
    record Round(int jobs, long tokens, double seconds, List<Double> ttftMs) {
        double aggregate() {
            return tokens / seconds;
        }

        /** Tokens / (end − submission) for each job: all J jobs end together in a batched decode. */
        double perJob() {
            return tokens / (double) jobs / seconds;
        }
    }

    /** The baseline's rounds, one per job count, and its peak RSS in bytes (-1 if unknown). */
    record Result(String setup, List<Round> rounds, long peakRssBytes) {}

    /** The backend both sides run ({@code --backend}). */
    String backend();

    /** @param cores the node's cores: the baseline process is pinned to them and gets as many threads */
    Result measure(Path model, List<Integer> cores, int nTokens, int[] jobCounts, PrintStream err) throws IOException,
            InterruptedException;

    static SingleNodeBaseline forBackend(String backend) {
        return switch (backend) {
            case "java", "llama.cpp" -> new OneProcess(backend);
            default -> throw new UsageException("bench cluster: option --backend: expected java or llama.cpp, got \""
                    + backend + "\"");
        };
    }

    /** The backend in its own JVM ({@link SingleNodeRun}) under {@code taskset}: sequential prefill, batched decode. */
    record OneProcess(String backend) implements SingleNodeBaseline {
        @Override
        public Result measure(Path model, List<Integer> cores, int nTokens, int[] jobCounts, PrintStream err)
                throws IOException, InterruptedException {
            String cpus = String.join(",", cores.stream().map(String::valueOf).toList());
            List<String> cmd = new ArrayList<>(List.of("taskset", "-c", cpus,
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                    "-Xmx" + Math.max(2048, 2 * java.nio.file.Files.size(model) / (1 << 20) + 512) + "m",
                    "-cp", System.getProperty("java.class.path"), SingleNodeRun.class.getName(),
                    model.toString(), Integer.toString(cores.size()), Integer.toString(nTokens),
                    String.join(",", Arrays.stream(jobCounts).mapToObj(Integer::toString).toList()), backend));
            err.println("single node: " + backend + " backend, one JVM on core(s) " + cpus + ", " + cores.size() + " thread(s)");
            Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            List<Round> rounds = new ArrayList<>();
            long peak = -1;
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    String[] f = line.split(" ");
                    if (f[0].equals("ROW")) {
                        List<Double> ttft = Arrays.stream(f[4].split(",")).map(Double::parseDouble).toList();
                        Round round = new Round(Integer.parseInt(f[1]), Long.parseLong(f[2]), Double.parseDouble(f[3]), ttft);
                        err.printf(java.util.Locale.ROOT, "single node: %d jobs, %d tokens in %.2f s: %.1f tok/s, first token after %.0f ms (median)%n",
                                round.jobs(), round.tokens(), round.seconds(), round.aggregate(), BenchCommand.median(ttft));
                        rounds.add(round);
                    } else if (f[0].equals("PEAK_RSS")) {
                        peak = Long.parseLong(f[1]);
                    }
                }
            } finally {
                if (p.isAlive()) p.destroyForcibly();
            }
            int exit = p.waitFor();
            if (exit != 0 || rounds.size() != jobCounts.length) {
                throw new IllegalStateException("the single-node baseline (" + String.join(" ", cmd.subList(0, 4))
                        + " ... SingleNodeRun) failed with exit " + exit + " after " + rounds.size() + " of "
                        + jobCounts.length + " rounds (its errors are above)");
            }
            return new Result(backend + ", 1 node of " + cores.size() + " core(s), batched", rounds, peak);
        }
    }
}
