package dev.bunshin.cli;

import dev.bunshin.engine.EngineOptions;
import dev.bunshin.engine.LayerRange;
import dev.bunshin.engine.StageInput;
import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.llama.LlamaCppStage;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * One llama.cpp stage's decode call against the rows in it, as a stage worker makes it: layers {@code [START, END)}
 * of MODEL on one thread, R sequences each decoding one position per call, their contexts between 16 and 128
 * positions (as jobs of a short prompt and 64 tokens). Prints {@code ROW rows median_ms} per row count, medians of
 * {@code CALLS} calls after one warm-up pass. Run it with {@code -Dbunshin.llama.pad-rows=on|off} to compare
 * (scripts/bench-row-padding.sh).
 *
 * <p>Arguments: {@code MODEL START END ROWS[,ROWS...] [CALLS=21]}.
 */
final class StageRowsRun {
    private StageRowsRun() {}

    public static void main(String[] args) throws Exception {
        Path model = Path.of(args[0]);
        LayerRange range = new LayerRange(Integer.parseInt(args[1]), Integer.parseInt(args[2]));
        int[] rowCounts = PipelineBench.jobCounts(args[3]);
        int calls = args.length > 4 ? Integer.parseInt(args[4]) : 21;
        int maxRows = Arrays.stream(rowCounts).max().orElseThrow();
        Random random = new Random(42);
        try (GgufFile f = GgufFile.open(model);
             LlamaCppStage stage = LlamaCppStage.load(f, range, new EngineOptions(1, 256, maxRows + 1),
                     LlamaCppStage.Settings.defaults())) {
            System.err.println(stage.describe());
            int[] pos = new int[maxRows];
            for (int pass = 0; pass < 2; pass++) {
                for (int rows : rowCounts) {
                    long[] ns = new long[calls];
                    for (int c = 0; c < calls; c++) {
                        List<StageInput> batch = new ArrayList<>(rows);
                        for (int s = 0; s < rows; s++) {
                            if (pos[s] >= 128) { // a job ended: a new one starts with a 16-token prompt
                                stage.free(s);
                                pos[s] = 0;
                            }
                            if (pos[s] == 0) {
                                stage.forward(List.of(input(range, s, 0, 16, stage.nEmbd(), random)));
                                pos[s] = 16;
                            }
                            batch.add(input(range, s, pos[s], 1, stage.nEmbd(), random));
                        }
                        long t0 = System.nanoTime();
                        stage.forward(batch);
                        ns[c] = System.nanoTime() - t0;
                        for (int s = 0; s < rows; s++) pos[s]++;
                    }
                    Arrays.sort(ns);
                    if (pass == 1) System.out.printf("ROW %d %.3f%n", rows, ns[calls / 2] / 1e6);
                }
            }
        }
    }

    /** {@code n} positions of sequence {@code seq} from {@code pos}: token ids on a first stage, else hidden states. */
    private static StageInput input(LayerRange range, long seq, int pos, int n, int nEmbd, Random random) {
        if (range.isFirst()) {
            int[] tokens = new int[n];
            for (int i = 0; i < n; i++) tokens[i] = 100 + random.nextInt(1000);
            return StageInput.ofTokens(seq, pos, tokens);
        }
        float[] x = new float[n * nEmbd];
        for (int i = 0; i < x.length; i++) x[i] = (float) random.nextGaussian() * 0.5f;
        return StageInput.ofActivations(seq, pos, x);
    }
}
