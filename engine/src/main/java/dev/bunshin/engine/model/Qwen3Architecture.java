package dev.bunshin.engine.model;

/** {@code qwen3}: per-head RMS norm of Q and K, NeoX RoPE, head size from {@code attention.key_length}. */
record Qwen3Architecture() implements Architecture {
    @Override
    public String name() {
        return "qwen3";
    }

    @Override
    public boolean ropeNeox() {
        return true;
    }

    @Override
    public boolean qkNorm() {
        return true;
    }
}
