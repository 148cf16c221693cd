#!/usr/bin/env python3
"""Generates the register-tiled row kernels of F32Matrix, Q8_0Matrix, Q4_0Matrix and Int8GroupMatrix.

Java cannot keep an array of vectors in registers, so each token tile size (8, 4, 2, 1: TILES below) is spelled out as its own
method with one accumulator per token. The quantized kernels stop at 4 tokens (QUANT_TILES): their 8-token tile was
slower on AVX-512, not faster (docs/benchmarks.md, 2026-12-05), and AVX2 never had the registers for it. Run from engine/: python3 tools/gen_kernels.py (rewrites the marked
section of each file in place).
"""
import re

TILES = [8, 4, 2, 1]
QUANT_TILES = [4, 2, 1]
BEGIN = "    // BEGIN GENERATED (tools/gen_kernels.py)\n"
END = "    // END GENERATED\n"


def acc_decl(T):
    return "        FloatVector " + ", ".join(f"a{i} = FloatVector.zero(F)" for i in range(T)) + ";\n"


def x_decl(T):
    s = "        int x0 = t * cols"
    for i in range(1, T):
        s += f", x{i} = x{i-1} + cols"
    return s + ";\n"


def store(T):
    return "".join(f"        y[(t + {i}) * rows + r] = sumLanes(a{i});\n" for i in range(T))


def fmas(T, w, c):
    return "".join(f"                a{i} = {w}.fma(FloatVector.fromArray(F, x, x{i} + {c}), a{i});\n" for i in range(T))


def f32(T):
    return (f"    private void row{T}(int r, float[] x, float[] y, int t) {{\n"
            f"        long base = (long) r * cols * 4;\n" + x_decl(T) + acc_decl(T) +
            "        int upper = F.loopBound(cols);\n"
            "        int c = 0;\n"
            "        for (; c < upper; c += L) {\n"
            "            FloatVector w = FloatVector.fromMemorySegment(F, data, base + 4L * c, ByteOrder.LITTLE_ENDIAN);\n"
            + fmas(T, "w", "c").replace("                ", "            ") +
            "        }\n" +
            "".join(f"        float s{i} = sumLanes(a{i});\n" for i in range(T)) +
            "        for (; c < cols; c++) {\n"
            "            float w = data.get(LE_FLOAT, base + 4L * c);\n" +
            "".join(f"            s{i} += w * x[x{i} + c];\n" for i in range(T)) +
            "        }\n" +
            "".join(f"        y[(t + {i}) * rows + r] = s{i};\n" for i in range(T)) +
            "    }\n")


def s_decl_first(T, w, c):
    return "".join(f"                FloatVector s{i} = {w}.mul(FloatVector.fromArray(F, x, x{i} + {c}));\n" for i in range(T))


def s_fma(T, w, c, indent="                    "):
    return "".join(f"{indent}s{i} = {w}.fma(FloatVector.fromArray(F, x, x{i} + {c}), s{i});\n" for i in range(T))


def scale_acc(T):
    return ("                FloatVector d = FloatVector.broadcast(F, ds[db + b]);\n" +
            "".join(f"                a{i} = s{i}.fma(d, a{i});\n" for i in range(T)))


def q8(T):
    # Sum each block's products first, then scale once: fewer operations than scaling every weight vector
    # when a tile is small (decode), which is the case that must run at memory speed.
    return (f"    private void row{T}(byte[] qs, float[] ds, int r, float[] x, float[] y, int t) {{\n"
            "        int nb = cols / QK;\n"
            "        int qb = r * cols, db = r * nb;\n" + x_decl(T) + acc_decl(T) +
            "        for (int b = 0; b < nb; b++) {\n"
            "            int q = qb + b * QK, c = b * QK;\n"
            "            {\n"
            "                FloatVector w = w(qs, q);\n" + s_decl_first(T, "w", "c") +
            "                for (int p = 1; p < P; p++) {\n"
            "                    w = w(qs, q + p * L);\n"
            "                    int cp = c + p * L;\n" + s_fma(T, "w", "cp") +
            "                }\n" + scale_acc(T) +
            "            }\n"
            "        }\n" + store(T) + "    }\n")


def q4(T):
    return (f"    private void row{T}(byte[] qs, float[] ds, int r, float[] x, float[] y, int t) {{\n"
            "        int nb = cols / QK;\n"
            "        int qb = r * (cols / 2), db = r * nb;\n" + x_decl(T) + acc_decl(T) +
            "        for (int b = 0; b < nb; b++) {\n"
            "            int q = qb + b * 16, c = b * QK;\n"
            "            {\n"
            "                IntVector v = bytes(qs, q);\n"
            "                FloatVector wl = lo(v), wh = hi(v);\n" + s_decl_first(T, "wl", "c") +
            s_fma(T, "wh", "c + 16", "                ") +
            "                for (int p = 1; p < P; p++) {\n"
            "                    v = bytes(qs, q + p * L);\n"
            "                    wl = lo(v);\n"
            "                    wh = hi(v);\n"
            "                    int cp = c + p * L;\n" + s_fma(T, "wl", "cp") + s_fma(T, "wh", "cp + 16") +
            "                }\n" + scale_acc(T) +
            "            }\n"
            "        }\n" + store(T) + "    }\n")


def dispatch(params, prologue, call, tiles):
    """The row-group and token-tile loops; call(T) is the statement that runs one row for tile T."""
    s = ("    /** Rows in groups small enough to stay in L1/L2 while every token tile passes over them. */\n"
         f"    private void tiled({params}, int n, int rowStart, int rowEnd) {{\n" + prologue +
         "        for (int g = rowStart; g < rowEnd; g += ROW_GROUP) {\n"
         "            int gEnd = Math.min(rowEnd, g + ROW_GROUP);\n"
         "            int t = 0;\n")
    for T in tiles:
        cond = " && MAX_TILE >= 8" if T == 8 else ""
        s += (f"            for (; t + {T} <= n{cond}; t += {T}) {{\n"
              f"                for (int r = g; r < gEnd; r++) {call(T)}\n"
              "            }\n")
    s += "        }\n    }\n"
    return s


def write(path, body):
    p = "src/main/java/dev/bunshin/engine/tensor/" + path
    src = open(p).read()
    i, j = src.index(BEGIN), src.index(END)
    open(p, "w").write(src[:i + len(BEGIN)] + body + src[j:])


for path, gen in [("F32Matrix.java", f32), ("Q8_0Matrix.java", q8), ("Q4_0Matrix.java", q4)]:
    packed = gen is not f32
    args = "qs, ds, " if packed else ""
    tiles = QUANT_TILES if packed else TILES
    head = dispatch(("byte[] qs, float[] ds, " if packed else "") + "float[] x, float[] y", "",
                    lambda T: f"row{T}({args}r, x, y, t);", tiles)
    write(path, head + "".join("\n" + gen(T) for T in tiles))


def grp(T, P):
    """Int8GroupMatrix: one signed byte per weight, P float vectors per group, one scale (and min) per group."""
    x = "".join(f", x{i} = x{i-1} + cols" for i in range(1, T))
    s = (f"    private void row{T}p{P}(int r, float[] x, float[] sums, float[] y, int t) {{\n"
         "        int groups = cols / group;\n"
         "        int qo = r * cols, go = r * groups;\n"
         f"        int x0 = t * cols{x};\n" + acc_decl(T) +
         "        for (int g = 0; g < groups; g++) {\n"
         f"            int i = g * {P} * L;\n"
         "            FloatVector w = w(q, qo + i);\n")
    s += "".join(f"            FloatVector s{k} = w.mul(FloatVector.fromArray(F, x, x{k} + i));\n" for k in range(T))
    if P == 4:
        # Two chains of two (even and odd vectors), added at the end: half the FMA latency a decode step waits on.
        # The four weight vectors are converted first, then each token runs its chains (fewer live registers).
        s += "".join(f"            FloatVector w{p} = w(q, qo + i + {p} * L);\n" for p in range(1, 4))
        for k in range(T):
            s += (f"            FloatVector u{k} = w1.mul(FloatVector.fromArray(F, x, x{k} + i + L));\n"
                  f"            s{k} = w2.fma(FloatVector.fromArray(F, x, x{k} + i + 2 * L), s{k});\n"
                  f"            u{k} = w3.fma(FloatVector.fromArray(F, x, x{k} + i + 3 * L), u{k});\n"
                  f"            s{k} = s{k}.add(u{k});\n")
    for p in range(1, P if P != 4 else 1):
        s += f"            w = w(q, qo + i + {p} * L);\n"
        s += "".join(f"            s{k} = w.fma(FloatVector.fromArray(F, x, x{k} + i + {p} * L), s{k});\n" for k in range(T))
    s += "            FloatVector d = FloatVector.broadcast(F, scale[go + g]);\n"
    s += "".join(f"            a{k} = s{k}.fma(d, a{k});\n" for k in range(T))
    s += "        }\n"
    s += "".join(f"        y[(t + {k}) * rows + r] = sumLanes(a{k}) + minTerm(go, sums, (t + {k}) * groups);\n" for k in range(T))
    return s + "    }\n"


def grp_call(T):
    cases = "".join(f"                        case {P} -> row{T}p{P}(r, x, sums, y, t);\n" for P in (1, 2, 4))
    return ("{\n                    switch (p) {\n" + cases +
            "                        default -> throw new IllegalStateException(\"group \" + group + \" with \" + L + \" lanes\");\n"
            "                    }\n                }")


write("Int8GroupMatrix.java",
      dispatch("float[] x, float[] sums, float[] y", "        int p = group / L;\n", grp_call, QUANT_TILES)
      + "".join("\n" + grp(T, P) for T in QUANT_TILES for P in (1, 2, 4)))
