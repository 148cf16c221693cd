package dev.bunshin.cli;

import dev.bunshin.launcher.Demo;
import dev.bunshin.launcher.Up;
import dev.bunshin.launcher.Worker;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * {@code ./bunshin}: the command line. Results go to stdout, logs and timings to stderr. Exit status: 0 ok,
 * 1 failure, 2 bad command line.
 */
public final class Main {

    private Main() {}

    static final String USAGE = """
            usage: ./bunshin <command> [options]

            Models (MODEL = a .gguf path, a file name in a model directory, or an Ollama name like qwen2.5:0.5b):
              models [--dir D ...]                         list local models (Ollama + GGUF directories)
              inspect MODEL                                architecture, shapes, tensor types; whether it can run
              plan MODEL --nodes N [--memory 8G,8G,16G] [--speed 1,1,2] [--context C] [--sequences S]
                   [--weighting speed-memory|speed]
                                                           split layers over N nodes; memory per stage
              generate --model MODEL --prompt TEXT [--max-tokens N] [--temperature T] [--seed S]
                       [--top-k K] [--top-p P] [--stages K] [--threads T] [--backend java|llama.cpp] [--ids]
                                                           generate in this process, layers split into K stages
              tokenize --model MODEL --vectors FILE        token ids of llama.cpp tokenizer test vectors
              bench engine MODEL [--threads 2] [--tokens 32] [--prompt-tokens 64] [--batch 16] [--reps 3]
                           [--warmup 2] [--backend java|llama.cpp] [--stages N] [--json] [--skip-llama]
                                                           a backend vs libllama's whole model, same file, same threads
              bench pipeline MODEL [--workers 2] [--threads 1] [--jobs 1,4,16] [--tokens 32] [--skip-llama]
                                                           the whole service (Kafka, PostgreSQL, workers) vs one process
              bench cluster MODEL --nodes N --cores-per-node C [--link-delay MS] [--link-rate MBIT] [--jobs 1,8,32]
                            [--tokens 64] [--backend java] [--memory-cap 0.4|600M] [--share-cores] [--reps R] [--json] [--plot FILE]
                                                           N simulated hosts (pinned, namespaced) vs the best single node
              bench events [--rates 1000,4000,max] [--tails 2] [--jobs 32] [--seconds 8] [--reps 3] [--json]
                                                           how streams learn of tokens: per-token NOTIFY vs Kafka events
              bench chaos MODEL [--workers 2] [--seconds 180] [--kill-every 20] [--rate 1] [--tokens 48]
                          [--targets worker,scheduler,submitter,kafka,postgres] [--seed S] [--json]
                                                           a soak: jobs keep coming while processes get kill -9
              bench priority MODEL [--workers 2] [--batch-lines 10000] [--batch-tokens 16] [--interactive 20]
                          [--every-ms 1000] [--tokens 8] [--json]
                                                           an interactive job's wait behind a big batch
              bench structured MODEL [--tokens 200] [--reps 5] [--threads 1] [--vocab DIR]
                                                           constrained sampling (a JSON schema) against free text
              bench make-models DIR [--mixes Q8_0,Q4_0,Q4_K_M] [--layers L] [--tiny] [--force]
                                                           write synthetic TinyLlama-shaped models (≈1 GB each)

            Services:
              up [options]                                 start Kafka, PostgreSQL, scheduler, workers, submitter
                                                           (--bind 0.0.0.0: let other machines join)
              worker --join HOST --database URL --model M  one stage worker joining a stack on another machine
              demo [options]                               start everything and run a demo batch
              batch [options]                              submit a batch of prompts to a running submitter
              status [--url URL] [--api-key KEY]           a running Bunshin's workers, plan, queue and token rate
                                                           (the data of the dashboard at URL/ui)

            Project:
              test                                         build and run every test (mvn -B -ntp verify)
              help                                         this text

            Options common to model commands: --dir D (a directory of .gguf files; repeatable;
            also $BUNSHIN_MODEL_DIRS); --ollama ROOT (Ollama's store; default $OLLAMA_MODELS or ~/.ollama/models).
            """;

    public static void main(String[] args) {
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
        PrintStream err = new PrintStream(new FileOutputStream(FileDescriptor.err), true, StandardCharsets.UTF_8);
        int status = run(args, out, err);
        out.flush();
        err.flush();
        System.exit(status);
    }

    /** Runs one command; returns the exit status. Never calls {@link System#exit}. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0) {
            err.print(USAGE);
            return 2;
        }
        String command = args[0];
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        try {
            return switch (command) {
                case "help", "--help", "-h" -> {
                    out.print(USAGE);
                    yield 0;
                }
                case "models" -> ModelsCommand.run(rest, out, err);
                case "inspect" -> InspectCommand.run(rest, out, err);
                case "plan" -> PlanCommand.run(rest, out, err);
                case "generate" -> GenerateCommand.run(rest, out, err);
                case "tokenize" -> TokenizeCommand.run(rest, out, err);
                case "bench" -> BenchCommand.run(rest, out, err);
                case "up" -> Up.run(rest, out, err);
                case "worker" -> Worker.run(rest, out, err);
                case "demo" -> Demo.run(rest);
                case "batch" -> BatchCommand.run(rest, err);
                case "status" -> StatusCommand.run(rest, out, err);
                case "test" -> throw new UsageException("test is run by the ./bunshin script (mvn -B -ntp verify)");
                default -> throw new UsageException("unknown command " + command + " (commands: models, inspect, plan, "
                        + "generate, tokenize, bench, up, worker, demo, batch, status, test, help)");
            };
        } catch (UsageException e) {
            err.println("bunshin " + e.getMessage());
            err.println("run ./bunshin help for usage");
            return 2;
        } catch (Exception | Error e) {
            err.println("bunshin " + command + ": error: " + describe(e));
            if (System.getenv("BUNSHIN_DEBUG") != null) e.printStackTrace(err);
            return 1;
        }
    }

    private static String describe(Throwable e) {
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getName() : m;
    }
}
