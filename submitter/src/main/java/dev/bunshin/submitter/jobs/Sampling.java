package dev.bunshin.submitter.jobs;

import dev.bunshin.submitter.api.ApiException;
import dev.bunshin.submitter.api.Fields;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * How a job samples, as stored in its jobs row. Each API has its own defaults ({@link #JOBS}, {@link #OPENAI},
 * {@link #OLLAMA}); {@link #read} applies a request's fields over them, checking ranges.
 */
public record Sampling(double temperature, double topP, int topK, double minP, double repeatPenalty,
                double presencePenalty, double frequencyPenalty, Long seed, List<String> stop) {

    static final int MAX_STOP = 16;

    /** /v1/jobs: the schema's defaults, greedy. */
    static final Sampling JOBS = new Sampling(0, 1, 0, 0, 1, 0, 0, null, List.of());
    /** OpenAI's documented defaults: temperature 1, top_p 1. */
    public static final Sampling OPENAI = new Sampling(1, 1, 0, 0, 1, 0, 0, null, List.of());
    /** Ollama's documented defaults. */
    public static final Sampling OLLAMA = new Sampling(0.8, 0.9, 40, 0, 1.1, 0, 0, null, List.of());

    /** These defaults overridden by the request's fields; out-of-range values are 400s naming the field. */
    public Sampling read(Fields f) {
        Double t = f.number("temperature", 0, 2);
        Double p = f.number("top_p", 0, 1);
        Integer k = f.integer("top_k");
        if (k != null && k < 0) {
            throw ApiException.invalid("top_k", "'top_k' must be >= 0 (0 = off), got " + k);
        }
        Double mp = f.number("min_p", 0, 1);
        Double rp = f.number("repeat_penalty");
        if (rp != null && !(rp > 0 && rp <= 10)) {
            throw ApiException.invalid("repeat_penalty", "'repeat_penalty' must be > 0 and <= 10 (1 = off), got " + Fields.fmt(rp));
        }
        Double pp = f.number("presence_penalty", -2, 2);
        Double fp = f.number("frequency_penalty", -2, 2);
        Long s = f.longValue("seed");
        List<String> st = f.strings("stop");
        if (st != null) {
            if (st.size() > MAX_STOP) {
                throw ApiException.invalid("stop", "at most " + MAX_STOP + " stop strings, got " + st.size());
            }
            for (int i = 0; i < st.size(); i++) {
                if (st.get(i).isEmpty()) {
                    throw ApiException.invalid("stop[" + i + "]", "stop strings must not be empty");
                }
            }
        }
        return new Sampling(t == null ? temperature : t, p == null ? topP : p, k == null ? topK : k,
                mp == null ? minP : mp, rp == null ? repeatPenalty : rp, pp == null ? presencePenalty : pp,
                fp == null ? frequencyPenalty : fp, s == null ? seed : s, st == null ? stop : List.copyOf(st));
    }

    /** The seed to store: the request's, or a random one (a job must be reproducible from its row). */
    long seedOrRandom() {
        return seed != null ? seed : ThreadLocalRandom.current().nextLong(0, Integer.MAX_VALUE);
    }
}
