package dev.bunshin.engine.tensor;

import dev.bunshin.engine.gguf.GgmlType;
import dev.bunshin.engine.gguf.GgufException;
import dev.bunshin.engine.gguf.GgufTensor;

import java.lang.foreign.MemorySegment;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import static dev.bunshin.engine.tensor.Kernels.B;
import static dev.bunshin.engine.tensor.Kernels.F;
import static dev.bunshin.engine.tensor.Kernels.L;

/**
 * Block types whose every value is {@code scale_g · q + min_g} with a small integer q and one float scale (and
 * min) per group of 16 or 32 values: Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K. At load time each block
 * is unpacked into one signed byte per value plus float scales and mins per group; the kernel then needs one
 * B2F conversion and one FMA per value and one scale FMA per group, whatever the bit packing of the format.
 *
 * <p>This costs about 1.1–1.5 bytes per weight of memory traffic and heap instead of the format's 0.3–0.8. On
 * AVX2 with two threads decode is bound by compute: kernels on the packed bits (masks and shifts before each
 * conversion) measured 1.5× (Q4_K) to 6× (Q6_K) slower than this layout.
 */
abstract class Int8GroupMatrix extends RepackedMatrix {

    /** Unpacks one block at {@code off} into quants {@code q[qo ..]} and per-group {@code scale/min[go ..]}. */
    @FunctionalInterface
    interface Unpacker {
        void unpack(MemorySegment s, long off, byte[] q, int qo, float[] scale, float[] min, int go);
    }

    final int group;
    final byte[] q;       // I8 [rows, cols]
    final float[] scale;  // F32 [rows, cols/group]
    final float[] min;    // F32 [rows, cols/group], null when the format has no offsets

    Int8GroupMatrix(GgufTensor t, GgmlType type, int group, boolean hasMin, Unpacker unpacker) throws GgufException {
        super(t, type);
        this.group = group;
        int groups = cols / group;
        this.q = new byte[rows * cols];
        this.scale = new float[rows * groups];
        this.min = hasMin ? new float[rows * groups] : null;
        float[] minOrScratch = hasMin ? min : new float[rows * groups];
        int blocksPerRow = cols / type.blockSize;
        int groupsPerBlock = type.blockSize / group;
        for (int r = 0; r < rows; r++) {
            for (int b = 0; b < blocksPerRow; b++) {
                unpacker.unpack(data, r * rowBytes + (long) b * type.typeSize, q, r * cols + b * type.blockSize,
                        scale, minOrScratch, r * groups + b * groupsPerBlock);
            }
        }
    }

    @Override
    final int sumGroup() {
        return min == null ? 0 : group;
    }

    @Override
    final float dot(int r, float[] x, int xo, float[] sums, int so) {
        int groups = cols / group;
        int qo = r * cols;
        int go = r * groups;
        // One small method per vectors-per-group count, each with its loop body unrolled by hand: C2 does not
        // unroll these short inner loops well, and one method holding every variant outgrows C2's inlining node
        // budget (a vector op that is not inlined is boxed, 10x slower). Each returns a float, so a call that is
        // not inlined costs a call, not a boxed vector.
        float sum = switch (group / L) {
            case 1 -> dot1(qo, go, groups, x, xo);
            case 2 -> dot2(qo, go, groups, x, xo);
            case 4 -> dot4(qo, go, groups, x, xo);
            default -> dotAny(qo, go, groups, x, xo);
        };
        if (min != null) {
            sum += Kernels.dot(min, go, sums, so, groups);
        }
        return sum;
    }

    private float dot1(int qo, int go, int groups, float[] x, int xo) {
        FloatVector acc = FloatVector.zero(F);
        for (int g = 0; g < groups; g++) {
            int i = g * L;
            FloatVector s = Kernels.bytesToFloats(ByteVector.fromArray(B, q, qo + i)).mul(FloatVector.fromArray(F, x, xo + i));
            acc = s.fma(FloatVector.broadcast(F, scale[go + g]), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    private float dot2(int qo, int go, int groups, float[] x, int xo) {
        FloatVector acc = FloatVector.zero(F);
        for (int g = 0; g < groups; g++) {
            int i = g * 2 * L;
            FloatVector w0 = Kernels.bytesToFloats(ByteVector.fromArray(B, q, qo + i));
            FloatVector w1 = Kernels.bytesToFloats(ByteVector.fromArray(B, q, qo + i + L));
            FloatVector s = w0.mul(FloatVector.fromArray(F, x, xo + i));
            s = w1.fma(FloatVector.fromArray(F, x, xo + i + L), s);
            acc = s.fma(FloatVector.broadcast(F, scale[go + g]), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    private float dot4(int qo, int go, int groups, float[] x, int xo) {
        FloatVector acc = FloatVector.zero(F);
        for (int g = 0; g < groups; g++) {
            int i = g * 4 * L;
            FloatVector w0 = Kernels.bytesToFloats(ByteVector.fromArray(B, q, qo + i));
            FloatVector w1 = Kernels.bytesToFloats(ByteVector.fromArray(B, q, qo + i + L));
            FloatVector w2 = Kernels.bytesToFloats(ByteVector.fromArray(B, q, qo + i + 2 * L));
            FloatVector w3 = Kernels.bytesToFloats(ByteVector.fromArray(B, q, qo + i + 3 * L));
            FloatVector s0 = w0.mul(FloatVector.fromArray(F, x, xo + i));
            FloatVector s1 = w1.mul(FloatVector.fromArray(F, x, xo + i + L));
            s0 = w2.fma(FloatVector.fromArray(F, x, xo + i + 2 * L), s0);
            s1 = w3.fma(FloatVector.fromArray(F, x, xo + i + 3 * L), s1);
            acc = s0.add(s1).fma(FloatVector.broadcast(F, scale[go + g]), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    private float dotAny(int qo, int go, int groups, float[] x, int xo) {
        FloatVector acc = FloatVector.zero(F);
        for (int g = 0; g < groups; g++) {
            int base = g * group;
            FloatVector s = FloatVector.zero(F);
            for (int k = 0; k < group; k += L) {
                FloatVector w = Kernels.bytesToFloats(ByteVector.fromArray(B, q, qo + base + k));
                s = w.fma(FloatVector.fromArray(F, x, xo + base + k), s);
            }
            acc = s.fma(FloatVector.broadcast(F, scale[go + g]), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    @Override
    final void decodeRow(int r, float[] out) {
        int groups = cols / group;
        int qo = r * cols;
        int go = r * groups;
        for (int g = 0; g < groups; g++) {
            FloatVector s = FloatVector.broadcast(F, scale[go + g]);
            FloatVector m = FloatVector.broadcast(F, min == null ? 0f : min[go + g]);
            for (int k = 0; k < group; k += L) {
                int i = g * group + k;
                Kernels.bytesToFloats(ByteVector.fromArray(B, q, qo + i)).fma(s, m).intoArray(out, i);
            }
        }
    }
}
