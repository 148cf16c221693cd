package dev.bunshin.engine.sample.grammar;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A context-free grammar over BYTES, in the shape of llama.cpp's GBNF after parsing: rules, each a list of
 * alternatives, each a sequence of symbols that are byte sets (terminals) or references to rules. Bytes rather than
 * characters because a token's bytes may end inside a UTF-8 character: the grammar spells UTF-8 out byte by byte.
 *
 * <p>Compiled, every alternative is a run of elements ending in {@link #END} in one array ({@link #elements}), so
 * that a parse position is one int; {@link Automaton} matches bytes against it. Rules must not be left-recursive
 * (a rule that can reach itself without consuming a byte), as in llama.cpp.
 */
public final class Grammar {

    /** An element that ends an alternative. */
    static final int END = Integer.MIN_VALUE;

    /** Per element: a rule id (&gt;= 0), a terminal {@code -(set + 1)}, or {@link #END}. */
    final int[] elements;
    /** Per rule: the element index where each alternative starts. */
    final int[][] alternatives;
    /** Byte sets, 4 longs (256 bits) each. // [nSets * 4] */
    final long[] sets;
    final int root;
    private final String[] names;

    private Grammar(int[] elements, int[][] alternatives, long[] sets, int root, String[] names) {
        this.elements = elements;
        this.alternatives = alternatives;
        this.sets = sets;
        this.root = root;
        this.names = names;
    }

    /** Whether terminal element {@code e} (negative) admits byte {@code b} (0..255). */
    boolean admits(int e, int b) {
        int set = -e - 1;
        return (sets[set * 4 + (b >>> 6)] & (1L << (b & 63))) != 0;
    }

    String ruleName(int rule) {
        return names[rule];
    }

    int ruleCount() {
        return alternatives.length;
    }

    /** Builds a grammar: declare rules, add their alternatives, then {@link #build} with the root. */
    public static final class Builder {
        private final List<String> names = new ArrayList<>();
        private final List<List<int[]>> alts = new ArrayList<>();
        private final List<long[]> sets = new ArrayList<>();
        private final java.util.Map<String, Integer> setIds = new java.util.HashMap<>();

        /** Declares a rule (its alternatives may come later, so rules can refer to each other); returns its id. */
        public int rule(String name) {
            names.add(name);
            alts.add(new ArrayList<>());
            return names.size() - 1;
        }

        /** Adds alternative {@code symbols} (rule ids and {@link #bytes} terminals; none: the empty string). */
        public Builder alt(int rule, int... symbols) {
            alts.get(rule).add(symbols.clone());
            return this;
        }

        /** A rule with exactly these alternatives. */
        public int rule(String name, int[]... alternatives) {
            int r = rule(name);
            for (int[] a : alternatives) alt(r, a);
            return r;
        }

        /** A terminal that admits the bytes {@code lo..hi} of each pair {@code (lo, hi)}. */
        public int bytes(int... ranges) {
            if (ranges.length % 2 != 0) throw new IllegalArgumentException("byte ranges come in pairs: " + Arrays.toString(ranges));
            long[] set = new long[4];
            for (int k = 0; k < ranges.length; k += 2) {
                if (ranges[k] < 0 || ranges[k + 1] > 255 || ranges[k] > ranges[k + 1]) {
                    throw new IllegalArgumentException("bad byte range " + ranges[k] + ".." + ranges[k + 1]);
                }
                for (int b = ranges[k]; b <= ranges[k + 1]; b++) set[b >>> 6] |= 1L << (b & 63);
            }
            String key = Arrays.toString(set);
            Integer id = setIds.get(key);
            if (id == null) {
                id = sets.size();
                sets.add(set);
                setIds.put(key, id);
            }
            return -(id + 1);
        }

        /** The terminals spelling {@code text}'s UTF-8 bytes one by one. */
        public int[] literal(String text) {
            byte[] b = text.getBytes(StandardCharsets.UTF_8);
            int[] out = new int[b.length];
            for (int k = 0; k < b.length; k++) out[k] = bytes(b[k] & 0xFF, b[k] & 0xFF);
            return out;
        }

        public Grammar build(int root) {
            int n = 0;
            for (List<int[]> r : alts) for (int[] a : r) n += a.length + 1;
            int[] elements = new int[n];
            int[][] starts = new int[alts.size()][];
            int at = 0;
            for (int r = 0; r < alts.size(); r++) {
                List<int[]> rule = alts.get(r);
                if (rule.isEmpty()) throw new IllegalStateException("rule " + names.get(r) + " has no alternatives");
                starts[r] = new int[rule.size()];
                for (int k = 0; k < rule.size(); k++) {
                    starts[r][k] = at;
                    for (int s : rule.get(k)) {
                        if (s >= alts.size()) throw new IllegalStateException("rule " + names.get(r) + " refers to rule " + s);
                        elements[at++] = s;
                    }
                    elements[at++] = END;
                }
            }
            long[] flat = new long[sets.size() * 4];
            for (int s = 0; s < sets.size(); s++) System.arraycopy(sets.get(s), 0, flat, s * 4, 4);
            return new Grammar(elements, starts, flat, root, names.toArray(String[]::new));
        }
    }

    /** Concatenates symbol runs. */
    public static int[] seq(int[]... parts) {
        int n = 0;
        for (int[] p : parts) n += p.length;
        int[] out = new int[n];
        int at = 0;
        for (int[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    /** One symbol as a run. */
    public static int[] of(int... symbols) {
        return symbols;
    }
}
