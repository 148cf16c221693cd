package dev.bunshin.engine.sample;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.SplittableRandom;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SamplerTest {

    private static final int[] NO_HISTORY = new int[0];

    private static SamplingParams params(float temp, int topK, float topP, float minP, long seed) {
        return new SamplingParams(temp, topK, topP, minP, 1f, 64, 0f, 0f, seed);
    }

    private static float[] flat(int n) {
        return new float[n];
    }

    @Test
    void greedyTakesTheLargestLogitAndTheLowestIdOnTies() {
        Sampler greedy = new Sampler(SamplingParams.GREEDY);
        assertEquals(2, greedy.sample(new float[]{0.1f, 0.5f, 0.9f, -3f}, NO_HISTORY, 0, 0));
        assertEquals(1, greedy.sample(new float[]{0.1f, 0.9f, 0.9f, 0.9f}, NO_HISTORY, 0, 0));
        assertEquals(0, greedy.sample(flat(5), NO_HISTORY, 0, 7));
        assertEquals(1, greedy.sample(new float[]{Float.NaN, 1f}, NO_HISTORY, 0, 0));
    }

    @Test
    void sameSeedAndStepGiveTheSameTokenAndStepsVary() {
        Sampler s = new Sampler(params(1f, 0, 1f, 0f, 1234));
        int[] first = new int[64];
        int[] again = new int[64];
        for (int step = 0; step < 64; step++) {
            first[step] = s.sample(flat(1000), NO_HISTORY, 0, step);
            again[step] = new Sampler(params(1f, 0, 1f, 0f, 1234)).sample(flat(1000), NO_HISTORY, 0, step);
        }
        assertArrayEquals(first, again, "re-sampling a step (redelivery) gives the same token");
        Set<Integer> distinct = new HashSet<>();
        for (int t : first) distinct.add(t);
        assertTrue(distinct.size() > 50, "a flat distribution over 1000 tokens should rarely repeat: " + distinct.size());
    }

    @Test
    void differentSeedsDifferOnAFlatDistribution() {
        int differ = 0;
        for (int step = 0; step < 32; step++) {
            int a = new Sampler(params(1f, 0, 1f, 0f, 1)).sample(flat(1000), NO_HISTORY, 0, step);
            int b = new Sampler(params(1f, 0, 1f, 0f, 2)).sample(flat(1000), NO_HISTORY, 0, step);
            if (a != b) differ++;
        }
        assertTrue(differ > 28, "seeds 1 and 2 agreed on " + (32 - differ) + " of 32 draws");
    }

    @Test
    void drawFollowsTheDistribution() {
        // logits ln(1), ln(3): token 1 should come about 3/4 of the time
        float[] logits = {0f, (float) Math.log(3)};
        Sampler s = new Sampler(params(1f, 0, 1f, 0f, 99));
        int ones = 0;
        int n = 4000;
        for (int step = 0; step < n; step++) {
            ones += s.sample(logits.clone(), NO_HISTORY, 0, step);
        }
        assertEquals(0.75, ones / (double) n, 0.03);
    }

    @Test
    void topKKeepsOnlyTheBestK() {
        float[] logits = {1f, 5f, 3f, 4f, 2f};
        Sampler s = new Sampler(params(100f, 2, 1f, 0f, 5)); // hot: without top-k every token would appear
        Set<Integer> seen = new HashSet<>();
        for (int step = 0; step < 300; step++) {
            seen.add(s.sample(logits.clone(), NO_HISTORY, 0, step));
        }
        assertEquals(Set.of(1, 3), seen);
    }

    @Test
    void topKBreaksTiesByLowestId() {
        Candidates c = Candidates.sorted(new float[]{2f, 7f, 7f, 7f, 1f}, 2);
        assertEquals(2, c.size());
        assertEquals(1, c.id(0));
        assertEquals(2, c.id(1));
    }

    @Test
    void topPKeepsTheSmallestPrefixReachingP() {
        // probabilities 0.5, 0.3, 0.2 (logits are their logs)
        float[] logits = {(float) Math.log(0.2), (float) Math.log(0.5), (float) Math.log(0.3)};
        Candidates c = Candidates.sorted(logits, 0);
        c.topP(0.7f);
        assertEquals(2, c.size(), "0.5 < 0.7 <= 0.5 + 0.3");
        assertEquals(1, c.id(0));
        assertEquals(2, c.id(1));
        Candidates one = Candidates.sorted(logits, 0);
        one.topP(0.5f);
        assertEquals(1, one.size());
        Candidates all = Candidates.sorted(logits, 0);
        all.topP(1f);
        assertEquals(3, all.size());
    }

    @Test
    void minPDropsTokensFarLessLikelyThanTheBest() {
        // p relative to the best: 1, 0.5, 0.05
        float[] logits = {0f, (float) Math.log(0.5), (float) Math.log(0.05)};
        Candidates c = Candidates.sorted(logits, 0);
        c.minP(0.1f);
        assertEquals(2, c.size());
        Sampler s = new Sampler(params(5f, 0, 1f, 0.1f, 3));
        for (int step = 0; step < 300; step++) {
            assertNotEquals(2, s.sample(logits.clone(), NO_HISTORY, 0, step));
        }
    }

    @Test
    void temperatureSharpensAndFlattens() {
        float[] logits = {0f, 1f};
        int coldOnes = 0;
        int hotOnes = 0;
        for (int step = 0; step < 2000; step++) {
            coldOnes += new Sampler(params(0.25f, 0, 1f, 0f, 8)).sample(logits.clone(), NO_HISTORY, 0, step);
            hotOnes += new Sampler(params(4f, 0, 1f, 0f, 8)).sample(logits.clone(), NO_HISTORY, 0, step);
        }
        // P(1) = sigmoid(1/T): T=0.25 → 0.982, T=4 → 0.562
        assertEquals(0.982, coldOnes / 2000.0, 0.02);
        assertEquals(0.562, hotOnes / 2000.0, 0.04);
    }

    @Test
    void repeatPenaltyDividesPositiveAndMultipliesNegativeLogits() {
        Sampler s = new Sampler(new SamplingParams(0f, 0, 1f, 0f, 2f, 64, 0f, 0f, 0));
        float[] logits = {4f, -1f, 3f};
        s.applyPenalties(logits, new int[]{0, 1, 0}, 3);
        assertArrayEquals(new float[]{2f, -2f, 3f}, logits);
    }

    @Test
    void presenceAndFrequencyPenaltiesSubtract() {
        Sampler s = new Sampler(new SamplingParams(0f, 0, 1f, 0f, 1f, 64, 0.5f, 0.25f, 0));
        float[] logits = {1f, 1f, 1f};
        s.applyPenalties(logits, new int[]{0, 0, 0, 1}, 4);
        assertArrayEquals(new float[]{1f - (3 * 0.25f + 0.5f), 1f - (0.25f + 0.5f), 1f}, logits);
    }

    @Test
    void penaltiesLookOnlyAtTheLastNTokensOfTheValidHistory() {
        Sampler s = new Sampler(new SamplingParams(0f, 0, 1f, 0f, 2f, 2, 0f, 0f, 0));
        float[] logits = {4f, 4f, 4f, 4f};
        // history beyond historyLength (the 3) is ignored, and token 0 is outside the last 2
        s.applyPenalties(logits, new int[]{0, 1, 2, 3}, 3);
        assertArrayEquals(new float[]{4f, 2f, 2f, 4f}, logits);
    }

    @Test
    void greedyWithRepeatPenaltyAvoidsTheRepeatedToken() {
        Sampler s = new Sampler(new SamplingParams(0f, 0, 1f, 0f, 1.5f, 64, 0f, 0f, 0));
        assertEquals(1, s.sample(new float[]{3f, 2.5f}, new int[]{0}, 1, 0));
        assertEquals(0, new Sampler(SamplingParams.GREEDY).sample(new float[]{3f, 2.5f}, new int[]{0}, 1, 0));
    }

    @Test
    void samplingTheSameLogitsTwiceGivesTheSameTokenAndLeavesThemAlone() {
        Sampler s = new Sampler(new SamplingParams(0.7f, 0, 0.9f, 0f, 1.3f, 64, 0.2f, 0.1f, 77));
        float[] logits = {1f, 2f, 3f, 2.5f, 0.5f};
        float[] before = logits.clone();
        int[] history = {2, 3, 2};
        int first = s.sample(logits, history, 3, 5);
        assertArrayEquals(before, logits, "penalties must not leak into the caller's logits");
        assertEquals(first, s.sample(logits, history, 3, 5));
    }

    @Test
    void maskedLogitsAreNeverSampled() {
        float[] logits = {Float.NEGATIVE_INFINITY, 0f, Float.NEGATIVE_INFINITY, 0f};
        Sampler s = new Sampler(params(1f, 0, 1f, 0f, 11));
        for (int step = 0; step < 200; step++) {
            int t = s.sample(logits.clone(), NO_HISTORY, 0, step);
            assertTrue(t == 1 || t == 3, "sampled " + t);
        }
    }

    @Test
    void fastCandidateFiltersEqualTheNaiveReference() {
        SplittableRandom random = new SplittableRandom(2024);
        int[] topKs = {0, 1, 5, 40};
        float[] topPs = {1f, 0.5f, 0.9f, 0.99f};
        float[] minPs = {0f, 0.05f, 0.2f};
        for (int trial = 0; trial < 400; trial++) {
            int n = random.nextInt(1, 3000);
            float[] logits = new float[n];
            double sigma = random.nextDouble(0.1, 8);
            boolean ties = random.nextBoolean();
            for (int i = 0; i < n; i++) {
                float l = (float) (random.nextGaussian() * sigma);
                logits[i] = ties ? Math.round(l * 2) / 2f : l;
                if (random.nextInt(20) == 0) logits[i] = Float.NEGATIVE_INFINITY;
            }
            int k = topKs[random.nextInt(topKs.length)];
            float p = topPs[random.nextInt(topPs.length)];
            float minP = minPs[random.nextInt(minPs.length)];
            Candidates c = Candidates.of(logits);
            c.topK(k);
            c.topPThenMinP(p, minP);
            List<Integer> fast = new ArrayList<>();
            for (int i = 0; i < c.size(); i++) fast.add(c.id(i));
            List<Integer> reference = naiveFilters(logits, k, p, minP);
            String where = "trial " + trial + " n=" + n + " k=" + k + " p=" + p + " minP=" + minP;
            if (k > 0 || p < 1f) {
                assertEquals(reference, fast, where); // sorted best first, like the reference
            } else {
                assertEquals(new HashSet<>(reference), new HashSet<>(fast), where); // id order is enough here
            }
        }
    }

    /** llama.cpp's filters, literally: sort everything, cut by top-k, then top-p, then min-p. */
    private static List<Integer> naiveFilters(float[] logits, int k, float p, float minP) {
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i < logits.length; i++) {
            if (logits[i] != Float.NEGATIVE_INFINITY) ids.add(i);
        }
        if (ids.isEmpty()) return List.of(0);
        ids.sort((a, b) -> logits[a] != logits[b] ? Float.compare(logits[b], logits[a]) : Integer.compare(a, b));
        if (k > 0) ids = new ArrayList<>(ids.subList(0, Math.min(k, ids.size())));
        double max = logits[ids.get(0)];
        if (p < 1f) {
            double z = 0;
            for (int id : ids) z += Math.exp(logits[id] - max);
            double cum = 0;
            for (int i = 0; i < ids.size(); i++) {
                cum += Math.exp(logits[ids.get(i)] - max) / z;
                if (cum >= p) {
                    ids = new ArrayList<>(ids.subList(0, i + 1));
                    break;
                }
            }
        }
        if (minP > 0f) {
            double threshold = max + Math.log(minP);
            List<Integer> kept = new ArrayList<>();
            for (int id : ids) if (logits[id] >= threshold) kept.add(id);
            ids = kept;
        }
        return ids;
    }

    @Test
    void invalidArgumentsAreRejected() {
        Sampler s = new Sampler(SamplingParams.GREEDY);
        assertThrows(IllegalArgumentException.class, () -> s.sample(new float[0], NO_HISTORY, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> s.sample(new float[2], new int[1], 2, 0));
    }
}
