package dev.bunshin.engine.model;

/** Tensor names of the supported architectures, in one place (llama.cpp's {@code LLM_TENSOR_NAMES}). */
public final class TensorNames {
    private TensorNames() {}

    public static final String TOKEN_EMBD = "token_embd.weight";
    public static final String OUTPUT_NORM = "output_norm.weight";
    /** Absent when the output head is tied to {@link #TOKEN_EMBD}. */
    public static final String OUTPUT = "output.weight";
    /** Llama 3.1 style per-dimension RoPE frequency factors, F32 [ropeDim / 2]; optional. */
    public static final String ROPE_FREQS = "rope_freqs.weight";

    private static String blk(int il, String what) {
        return "blk." + il + "." + what;
    }

    public static String attnNorm(int il) { return blk(il, "attn_norm.weight"); }
    public static String attnQ(int il) { return blk(il, "attn_q.weight"); }
    public static String attnK(int il) { return blk(il, "attn_k.weight"); }
    public static String attnV(int il) { return blk(il, "attn_v.weight"); }
    public static String attnOut(int il) { return blk(il, "attn_output.weight"); }
    public static String attnQBias(int il) { return blk(il, "attn_q.bias"); }
    public static String attnKBias(int il) { return blk(il, "attn_k.bias"); }
    public static String attnVBias(int il) { return blk(il, "attn_v.bias"); }
    public static String attnOutBias(int il) { return blk(il, "attn_output.bias"); }
    public static String attnQNorm(int il) { return blk(il, "attn_q_norm.weight"); }
    public static String attnKNorm(int il) { return blk(il, "attn_k_norm.weight"); }
    public static String ffnNorm(int il) { return blk(il, "ffn_norm.weight"); }
    public static String ffnGate(int il) { return blk(il, "ffn_gate.weight"); }
    public static String ffnUp(int il) { return blk(il, "ffn_up.weight"); }
    public static String ffnDown(int il) { return blk(il, "ffn_down.weight"); }
}
