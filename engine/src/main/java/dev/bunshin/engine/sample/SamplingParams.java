package dev.bunshin.engine.sample;

/**
 * How the next token is chosen. {@code temperature <= 0} means greedy (argmax).
 *
 * @param temperature      0 = greedy
 * @param topK             0 = off
 * @param topP             1 = off
 * @param minP             0 = off
 * @param repeatPenalty    1 = off (llama.cpp's penalty_repeat)
 * @param repeatLastN      how many recent tokens the penalties look at (llama.cpp's penalty_last_n)
 * @param presencePenalty  0 = off
 * @param frequencyPenalty 0 = off
 * @param seed             same seed, same logits → same token
 */
public record SamplingParams(float temperature, int topK, float topP, float minP, float repeatPenalty,
                             int repeatLastN, float presencePenalty, float frequencyPenalty, long seed) {

    public static final SamplingParams GREEDY = new SamplingParams(0f, 0, 1f, 0f, 1f, 64, 0f, 0f, 0L);

    public boolean greedy() {
        return temperature <= 0f;
    }
}
