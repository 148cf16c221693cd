package dev.bunshin.engine.sample;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Comparator;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link TokenLogprobs} against a naive reference: the whole log-softmax, then a full sort of the vocabulary. */
class TokenLogprobsTest {

    private static final double TOLERANCE = 1e-5;

    /** The naive reference: every logprob in double, by definition; ranks by a stable sort of all of them. */
    private static double[] naiveLogSoftmax(float[] logits, float temperature) {
        double t = temperature > 0 ? temperature : 1;
        double z = 0;
        for (float l : logits) z += Math.exp(l / t);
        double[] out = new double[logits.length];
        for (int i = 0; i < logits.length; i++) out[i] = Math.log(Math.exp(logits[i] / t) / z);
        return out;
    }

    private static int[] naiveTop(double[] lp, int k) {
        return IntStream.range(0, lp.length).boxed()
                .sorted(Comparator.<Integer>comparingDouble(i -> -lp[i]).thenComparingInt(i -> i))
                .limit(k).mapToInt(Integer::intValue).toArray();
    }

    private static void assertMatchesReference(float[] logits, float temperature, int token, int k) {
        TokenLogprobs fast = TokenLogprobs.of(logits, temperature, token, k);
        double[] lp = naiveLogSoftmax(logits, temperature);
        int[] top = naiveTop(lp, Math.min(k, logits.length));
        assertEquals(token, fast.token());
        assertEquals(lp[token], fast.logprob(), TOLERANCE, "logprob of the chosen token " + token);
        assertArrayEquals(top, fast.topIds(), "top ids for k = " + k);
        for (int i = 0; i < top.length; i++) {
            assertEquals(lp[top[i]], fast.topLogprobs()[i], TOLERANCE, "top logprob " + i);
        }
    }

    private static float[] random(SplittableRandom r, int n, double scale) {
        float[] l = new float[n];
        for (int i = 0; i < n; i++) l[i] = (float) (r.nextGaussian() * scale);
        return l;
    }

    @Test
    void matchesTheNaiveReferenceOverRandomLogitsTemperaturesAndK() {
        SplittableRandom r = new SplittableRandom(7);
        for (int trial = 0; trial < 200; trial++) {
            int n = 1 + r.nextInt(3000);
            float[] logits = random(r, n, 1 + r.nextDouble() * 8);
            float temperature = new float[]{0f, 0.3f, 0.7f, 1f, 1.5f}[trial % 5];
            int k = new int[]{0, 1, 5, 20}[trial % 4];
            assertMatchesReference(logits, temperature, r.nextInt(n), k);
        }
    }

    @Test
    void kZeroGivesNoAlternativesAndKTwentyGivesTwentySortedDescending() {
        float[] logits = random(new SplittableRandom(3), 32000, 4);
        TokenLogprobs none = TokenLogprobs.of(logits, 0f, 5, 0);
        assertEquals(0, none.topIds().length);
        assertEquals(0, none.topLogprobs().length);
        TokenLogprobs twenty = TokenLogprobs.of(logits, 0f, Sampler.argmax(logits), 20);
        assertEquals(20, twenty.topIds().length);
        for (int i = 1; i < 20; i++) assertTrue(twenty.topLogprobs()[i - 1] >= twenty.topLogprobs()[i]);
        // greedy: the chosen token is the most likely, and its logprob the largest
        assertEquals(twenty.token(), twenty.topIds()[0]);
        assertEquals(twenty.logprob(), twenty.topLogprobs()[0]);
        assertMatchesReference(logits, 0f, 17, 20);
        // fewer tokens than k: all of them
        assertMatchesReference(new float[]{1f, 2f, 3f}, 1f, 0, 20);
    }

    @Test
    void tiesRankTheLowerIdFirstAsGreedyDoes() {
        float[] logits = {0.5f, 2f, 1f, 2f, 2f, -1f};
        TokenLogprobs lp = TokenLogprobs.of(logits, 0f, Sampler.argmax(logits), 4);
        assertArrayEquals(new int[]{1, 3, 4, 2}, lp.topIds());
        assertEquals(1, lp.token());
        assertEquals(lp.topLogprobs()[0], lp.topLogprobs()[2]);
        assertMatchesReference(new float[64], 1f, 9, 20); // a flat distribution: ids 0..19, each -log 64
        assertEquals(-Math.log(64), TokenLogprobs.of(new float[64], 1f, 9, 3).logprob(), TOLERANCE);
    }

    @Test
    void temperatureSharpensTheDistributionAndGreedyCountsAsOne() {
        float[] logits = {1f, 2f, 3f};
        assertEquals(TokenLogprobs.of(logits, 1f, 2, 0).logprob(), TokenLogprobs.of(logits, 0f, 2, 0).logprob());
        assertTrue(TokenLogprobs.of(logits, 0.5f, 2, 0).logprob() > TokenLogprobs.of(logits, 1f, 2, 0).logprob());
        assertMatchesReference(logits, 0.5f, 0, 3);
    }

    @Test
    void theDistributionIsTheOneAfterThePenalties() {
        // repeat 1.3, presence 0.5, frequency 0.25 on tokens 2 (seen twice) and 4 (seen once)
        Sampler s = new Sampler(new SamplingParams(0.8f, 3, 0.9f, 0.05f, 1.3f, 64, 0.5f, 0.25f, 1L));
        float[] logits = random(new SplittableRandom(11), 50, 3);
        logits[2] = 4f;
        logits[4] = -2f;
        int[] history = {2, 4, 2};
        float[] seen = s.penalised(logits, history, history.length);
        assertEquals(4f / 1.3f - (2 * 0.25f + 0.5f), seen[2], 1e-6);
        assertEquals(-2f * 1.3f - (0.25f + 0.5f), seen[4], 1e-6);
        assertEquals(4f, logits[2]); // the input is untouched
        int token = s.choose(seen, 0);
        assertEquals(token, s.sample(logits, history, history.length, 0));
        assertMatchesReference(seen, 0.8f, token, 20);
        // top-k 3 / top-p / min-p do not truncate what is reported: a token outside the top 3 has a finite logprob
        TokenLogprobs lp = TokenLogprobs.of(seen, 0.8f, token, 20);
        assertTrue(lp.topLogprobs()[10] > TokenLogprobs.FLOOR);
    }

    @Test
    void impossibleTokensGetTheFloorAndBadArgumentsAreRefusedByValue() {
        float[] logits = {Float.NEGATIVE_INFINITY, 0f, Float.NaN, 1f};
        TokenLogprobs lp = TokenLogprobs.of(logits, 1f, 0, 4);
        assertEquals(TokenLogprobs.FLOOR, lp.logprob());
        assertArrayEquals(new int[]{3, 1, 0, 2}, lp.topIds());
        assertEquals(TokenLogprobs.FLOOR, lp.topLogprobs()[3]);
        double z = Math.log(Math.exp(0) + Math.exp(1));
        assertEquals(1 - z, lp.topLogprobs()[0], TOLERANCE);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> TokenLogprobs.of(new float[3], 1f, 0, 21))
                .getMessage().contains("21"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> TokenLogprobs.of(new float[3], 1f, 3, 1))
                .getMessage().contains("3"));
        assertTrue(Arrays.equals(new int[0], TokenLogprobs.of(new float[1], 1f, 0, 0).topIds()));
    }
}
