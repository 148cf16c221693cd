#!/usr/bin/env python3
"""Generates the register-tiled row kernels of F32Matrix, Q8_0Matrix and Q4_0Matrix.

Java cannot keep an array of vectors in registers, so each token tile size (1, 4, 8) is spelled out as its own
method with one accumulator per token. Run from engine/: python3 tools/gen_kernels.py (rewrites the marked
section of each file in place).
"""
import re

TILES = [8, 4, 1]
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


def q8(T):
    return (f"    private void row{T}(int r, float[] x, float[] y, int t) {{\n"
            "        long base = r * rowBytes;\n"
            "        int nb = cols / QK;\n" + x_decl(T) + acc_decl(T) +
            "        for (int b = 0; b < nb; b++) {\n"
            "            long blk = base + (long) b * BLOCK_BYTES;\n"
            "            FloatVector d = FloatVector.broadcast(F, scale(blk));\n"
            "            for (int p = 0; p < P; p++) {\n"
            "                FloatVector w = w(blk + 2 + p * L).mul(d);\n"
            "                int c = b * QK + p * L;\n" + fmas(T, "w", "c") +
            "            }\n"
            "        }\n" + store(T) + "    }\n")


def q4(T):
    return (f"    private void row{T}(int r, float[] x, float[] y, int t) {{\n"
            "        long base = r * rowBytes;\n"
            "        int nb = cols / QK;\n" + x_decl(T) + acc_decl(T) +
            "        for (int b = 0; b < nb; b++) {\n"
            "            long blk = base + (long) b * BLOCK_BYTES;\n"
            "            FloatVector d = FloatVector.broadcast(F, scale(blk));\n"
            "            for (int p = 0; p < P; p++) {\n"
            "                ByteVector v = bytes(blk + 2 + p * L);\n"
            "                FloatVector wl = lo(v).mul(d), wh = hi(v).mul(d);\n"
            "                int c = b * QK + p * L;\n" + fmas(T, "wl", "c") + fmas(T, "wh", "c + 16") +
            "            }\n"
            "        }\n" + store(T) + "    }\n")


def dispatch():
    s = ("    /** Rows in groups small enough to stay in L1/L2 while every token tile passes over them. */\n"
         "    private void tiled(float[] x, float[] y, int n, int rowStart, int rowEnd) {\n"
         "        for (int g = rowStart; g < rowEnd; g += ROW_GROUP) {\n"
         "            int gEnd = Math.min(rowEnd, g + ROW_GROUP);\n"
         "            int t = 0;\n")
    for T in TILES:
        s += (f"            for (; t + {T} <= n; t += {T}) {{\n"
              f"                for (int r = g; r < gEnd; r++) row{T}(r, x, y, t);\n"
              "            }\n")
    s += "        }\n    }\n"
    return s


for path, gen in [("F32Matrix.java", f32), ("Q8_0Matrix.java", q8), ("Q4_0Matrix.java", q4)]:
    p = "src/main/java/dev/bunshin/engine/tensor/" + path
    src = open(p).read()
    body = dispatch() + "".join("\n" + gen(T) for T in TILES)
    i, j = src.index(BEGIN), src.index(END)
    src = src[:i + len(BEGIN)] + body + src[j:]
    open(p, "w").write(src)
