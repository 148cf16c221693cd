package dev.bunshin.engine.model;

/** {@code llama}: Llama 2/3, Mistral, TinyLlama, SmolLM. Adjacent-pair RoPE, optional {@code rope_freqs}. */
record LlamaArchitecture() implements Architecture {
    @Override
    public String name() {
        return "llama";
    }

    @Override
    public boolean ropeNeox() {
        return false;
    }

    @Override
    public boolean qkNorm() {
        return false;
    }
}
