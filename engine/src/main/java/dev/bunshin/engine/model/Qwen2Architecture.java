package dev.bunshin.engine.model;

/** {@code qwen2}: Qwen 2 / 2.5. Biases on Q, K and V (loaded whenever present), NeoX RoPE. */
record Qwen2Architecture() implements Architecture {
    @Override
    public String name() {
        return "qwen2";
    }

    @Override
    public boolean ropeNeox() {
        return true;
    }

    @Override
    public boolean qkNorm() {
        return false;
    }
}
