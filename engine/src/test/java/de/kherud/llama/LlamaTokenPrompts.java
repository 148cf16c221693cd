package de.kherud.llama;

/**
 * Test access to llama.cpp completions from token ids rather than text: the binding's parameter map is
 * package-private, and llama.cpp's server accepts {@code "prompt": [id, id, ...]} (used verbatim, no BOS added).
 * This lets a test feed llama.cpp exactly the token sequence our engine saw (teacher forcing).
 */
public final class LlamaTokenPrompts {
    private LlamaTokenPrompts() {}

    /** Greedy completion of {@code nPredict} tokens after exactly these prompt tokens. */
    public static String completeGreedy(LlamaModel model, int[] tokens, int nPredict) {
        InferenceParameters ip = new InferenceParameters("").setTemperature(0f).setNPredict(nPredict)
                .setRepeatPenalty(1f).setFrequencyPenalty(0f).setPresencePenalty(0f).setSeed(42).setCachePrompt(false);
        StringBuilder json = new StringBuilder("[");
        for (int i = 0; i < tokens.length; i++) {
            json.append(i == 0 ? "" : ",").append(tokens[i]);
        }
        ip.parameters.put("prompt", json.append(']').toString());
        return model.complete(ip);
    }
}
