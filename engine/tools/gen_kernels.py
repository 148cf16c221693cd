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


def sum_store(i, v):
    """Token i's output for this row: the lanes of accumulator expression v summed (q8, q4)."""
    return f"y[(t + {i}) * rows + r] = sumLanes({v});"


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


def s_decl_first(T, w, c, indent="                "):
    return "".join(f"{indent}FloatVector s{i} = {w}.mul(FloatVector.fromArray(F, x, x{i} + {c}));\n" for i in range(T))


def s_fma(T, w, c, indent="                    "):
    return "".join(f"{indent}s{i} = {w}.fma(FloatVector.fromArray(F, x, x{i} + {c}), s{i});\n" for i in range(T))


def scale_acc(T, scale, acc, indent="                "):
    return (f"{indent}FloatVector d = FloatVector.broadcast(F, {scale});\n" +
            "".join(f"{indent}{acc}{i} = s{i}.fma(d, {acc}{i});\n" for i in range(T)))


def paired(T, head, body, store_one, mode="runtime", unrolled=False):
    """The block loop. body(b, acc) is one block's code adding into accumulators acc0..acc{T-1}.

    With PAIRED (AVX-512: a block is at most two float vectors), even blocks add into a0.., odd ones into c0..,
    and the two are added at the end: a block's result then waits on the FMA two blocks back, not on the last one.
    One chain bounded a decode step streaming its weights from memory (docs/benchmarks.md, "Two accumulator chains
    per token on AVX-512"). unrolled: one token unrolls two blocks per iteration (two()), faster for Q8_0's n=1;
    tiles rotate the chains instead (swap(), the same sums without a second copy of the body). Every tile size adds
    the same products in the same order per token, so a token's bits do not depend on its batch.
    """
    acc_c = "FloatVector " + ", ".join(f"c{i} = FloatVector.zero(F)" for i in range(T)) + ";\n"

    def stores(ind, both):
        return "".join(f"{ind}{store_one(i, f'a{i}.add(c{i})' if both else f'a{i}')}\n" for i in range(T))

    def two(ind):
        return (ind + acc_c + ind + "int b = 0;\n" +
                ind + "for (; b + 2 <= nb; b += 2) {\n" + body("b", "a", ind + "    ") + body("b + 1", "c", ind + "    ") +
                ind + "}\n" + ind + "if (b < nb) {\n" + body("b", "a", ind + "    ") + ind + "}\n" + stores(ind, True))

    def swap(ind):
        # The same sums as two(): each block adds into the chain of two blocks back (c), then the chains swap.
        # As many operations as one chain, without a second copy of the body (tiles of two or more tokens).
        step = body("b", "n", ind + "    ").replace(f"{ind}    {{\n", f"{ind}    {{\n" + ind + "        FloatVector " +
                                                    ", ".join(f"n{i} = c{i}" for i in range(T)) + ";\n", 1)
        step = step[:step.rindex(f"{ind}    }}")] + "".join(f"{ind}        c{i} = a{i};\n{ind}        a{i} = n{i};\n" for i in range(T)) + f"{ind}    }}\n"
        return ind + acc_c + ind + "for (int b = 0; b < nb; b++) {\n" + step + ind + "}\n" + stores(ind, True)

    def one(ind):
        return ind + "for (int b = 0; b < nb; b++) {\n" + body("b", "a", ind + "    ") + ind + "}\n" + stores(ind, False)

    pair = two if T == 1 and unrolled else swap
    if mode == "never":
        return head + acc_decl(T) + one("        ") + "    }\n"
    return (head + acc_decl(T) + "        if (PAIRED) {\n" + pair("            ") +
            "        } else {\n" + one("            ") + "        }\n    }\n")


def par(e):
    """An index expression ready to multiply: "b" stays, "b + 1" gets parentheses."""
    return e if e.isidentifier() else f"({e})"


def q8(T):
    # Sum each block's products first, then scale once: fewer operations than scaling every weight vector
    # when a tile is small (decode), which is the case that must run at memory speed.
    def body(b, acc, ind):
        return (f"{ind}{{\n"
                f"{ind}    int q = qb + {par(b)} * QK, c = {par(b)} * QK;\n"
                f"{ind}    FloatVector w = w(qs, q);\n" + s_decl_first(T, "w", "c", ind + "    ") +
                f"{ind}    for (int p = 1; p < P; p++) {{\n"
                f"{ind}        w = w(qs, q + p * L);\n"
                f"{ind}        int cp = c + p * L;\n" + s_fma(T, "w", "cp", ind + "        ") +
                f"{ind}    }}\n" + scale_acc(T, f"ds[db + {b}]", acc, ind + "    ") +
                f"{ind}}}\n")
    head = (f"    private void row{T}(byte[] qs, float[] ds, int r, float[] x, float[] y, int t) {{\n"
            "        int nb = cols / QK;\n"
            "        int qb = r * cols, db = r * nb;\n" + x_decl(T))
    return paired(T, head, body, sum_store, unrolled=True)


def q4(T):
    def body(b, acc, ind):
        return (f"{ind}{{\n"
                f"{ind}    int q = qb + {par(b)} * 16, c = {par(b)} * QK;\n"
                f"{ind}    IntVector v = bytes(qs, q);\n"
                f"{ind}    FloatVector wl = lo(v), wh = hi(v);\n" + s_decl_first(T, "wl", "c", ind + "    ") +
                s_fma(T, "wh", "c + 16", ind + "    ") +
                f"{ind}    for (int p = 1; p < P; p++) {{\n"
                f"{ind}        v = bytes(qs, q + p * L);\n"
                f"{ind}        wl = lo(v);\n"
                f"{ind}        wh = hi(v);\n"
                f"{ind}        int cp = c + p * L;\n" + s_fma(T, "wl", "cp", ind + "        ") +
                s_fma(T, "wh", "cp + 16", ind + "        ") +
                f"{ind}    }}\n" + scale_acc(T, f"ds[db + {b}]", acc, ind + "    ") +
                f"{ind}}}\n")
    head = (f"    private void row{T}(byte[] qs, float[] ds, int r, float[] x, float[] y, int t) {{\n"
            "        int nb = cols / QK;\n"
            "        int qb = r * (cols / 2), db = r * nb;\n" + x_decl(T))
    return paired(T, head, body, sum_store)


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
    """Int8GroupMatrix: one signed byte per weight, P float vectors per group, one scale (and min) per group.

    One chain per token (paired() was tried here, docs/benchmarks.md "Two accumulator chains": no gain on AVX-512, on AVX2 the
    second set of accumulators spilled, Q6_K n=16 22.7 -> 17.3 Gw/s); groups of four split their sum in two inside
    the group.
    """
    def body(g, acc, ind):
        s = (f"{ind}{{\n"
             f"{ind}    int i = {par(g)} * {P} * L;\n"
             f"{ind}    FloatVector w = w(q, qo + i);\n")
        s += "".join(f"{ind}    FloatVector s{k} = w.mul(FloatVector.fromArray(F, x, x{k} + i));\n" for k in range(T))
        if P == 4:
            # Two chains of two (even and odd vectors), added at the end: half the FMA latency a decode step waits on.
            # The four weight vectors are converted first, then each token runs its chains (fewer live registers).
            s += "".join(f"{ind}    FloatVector w{p} = w(q, qo + i + {p} * L);\n" for p in range(1, 4))
            for k in range(T):
                s += (f"{ind}    FloatVector u{k} = w1.mul(FloatVector.fromArray(F, x, x{k} + i + L));\n"
                      f"{ind}    s{k} = w2.fma(FloatVector.fromArray(F, x, x{k} + i + 2 * L), s{k});\n"
                      f"{ind}    u{k} = w3.fma(FloatVector.fromArray(F, x, x{k} + i + 3 * L), u{k});\n"
                      f"{ind}    s{k} = s{k}.add(u{k});\n")
        for p in range(1, P if P != 4 else 1):
            s += f"{ind}    w = w(q, qo + i + {p} * L);\n"
            s += "".join(f"{ind}    s{k} = w.fma(FloatVector.fromArray(F, x, x{k} + i + {p} * L), s{k});\n" for k in range(T))
        return s + scale_acc(T, f"scale[go + {g}]", acc, ind + "    ") + f"{ind}}}\n"

    x = "".join(f", x{i} = x{i-1} + cols" for i in range(1, T))
    head = (f"    private void row{T}p{P}(int r, float[] x, float[] sums, float[] y, int t) {{\n"
            "        int nb = cols / group;\n"
            "        int qo = r * cols, go = r * nb;\n"
            f"        int x0 = t * cols{x};\n")
    return paired(T, head, body,
                  lambda k, v: f"y[(t + {k}) * rows + r] = sumLanes({v}) + minTerm(go, sums, (t + {k}) * nb);",
                  "never")


def grp_call(T):
    cases = "".join(f"                        case {P} -> row{T}p{P}(r, x, sums, y, t);\n" for P in (1, 2, 4))
    return ("{\n                    switch (p) {\n" + cases +
            "                        default -> throw new IllegalStateException(\"group \" + group + \" with \" + L + \" lanes\");\n"
            "                    }\n                }")


write("Int8GroupMatrix.java",
      dispatch("float[] x, float[] sums, float[] y", "        int p = group / L;\n", grp_call, QUANT_TILES)
      + "".join("\n" + grp(T, P) for T in QUANT_TILES for P in (1, 2, 4)))
