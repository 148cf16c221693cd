package dev.bunshin.engine.sample.grammar;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Matches bytes against a {@link Grammar} as llama.cpp's grammar engine does: a parse state is a set of stacks of
 * grammar positions (a pushdown automaton run nondeterministically), each stack's top a terminal waiting for the
 * next byte; a stack that emptied means the text so far is a whole sentence ({@link State#accepts}).
 *
 * <p>Unlike llama.cpp it interns what it builds: equal stacks are one {@link Stack} object and equal sets of stacks
 * one {@link State}, and each state remembers where every byte took it. Walking the vocabulary's byte trie from
 * the same few states again and again (every token of a string body starts in the same state) is then mostly array
 * lookups. A grammar's automaton is shared by every job with that grammar; it is NOT thread-safe (one tail thread
 * uses it). Its tables are dropped when they grow past {@link #MAX_STATES} (states already held stay valid).
 */
public final class Automaton {

    /** When the interned tables are dropped, so one runaway document cannot hold memory forever. */
    static final int MAX_STATES = 50_000;
    /** Expansion depth beyond which the grammar is taken to be left-recursive. */
    private static final int MAX_DEPTH = 10_000;

    final Grammar grammar;
    private Map<Long, Stack> stacks = new HashMap<>();
    private Map<Key, State> states = new HashMap<>();
    private int nextStackId;
    /** The state no byte leads out of and that accepts nothing: a rejected text. */
    public final State dead;
    private final State start;

    public Automaton(Grammar grammar) {
        this.grammar = Objects.requireNonNull(grammar, "grammar == null");
        this.dead = new State(new Stack[0], false);
        List<Stack> out = new ArrayList<>();
        boolean[] accepts = new boolean[1];
        for (int a : grammar.alternatives[grammar.root]) expand(a, null, out, accepts, 0);
        this.start = state(out, accepts[0]);
    }

    /** The state before any byte. */
    public State start() {
        return start;
    }

    /** One stack of grammar positions, interned: {@code pos} is the next element to match, then {@code parent}. */
    static final class Stack {
        final int pos;
        final Stack parent;
        final int id;

        private Stack(int pos, Stack parent, int id) {
            this.pos = pos;
            this.parent = parent;
            this.id = id;
        }
    }

    /** A set of stacks, each topped by a terminal, and whether the text so far is a whole sentence. Immutable. */
    public static final class State {
        final Stack[] stacks; // sorted by id
        final boolean accepts;
        /** Where each byte leads, filled in as asked. */
        private State[] next;

        private State(Stack[] stacks, boolean accepts) {
            this.stacks = stacks;
            this.accepts = accepts;
        }

        /** Whether the bytes so far form a whole sentence of the grammar. */
        public boolean accepts() {
            return accepts;
        }

        /** Whether some byte can follow. */
        public boolean canContinue() {
            return stacks.length > 0;
        }

        /** Whether no text starting with the bytes so far is a sentence. */
        public boolean isDead() {
            return stacks.length == 0 && !accepts;
        }

        @Override
        public String toString() {
            return "State[" + stacks.length + " stack(s)" + (accepts ? ", accepts" : "") + "]";
        }
    }

    private record Key(int[] ids, boolean accepts) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && k.accepts == accepts && Arrays.equals(k.ids, ids);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(ids) * 2 + (accepts ? 1 : 0);
        }
    }

    /** The state after byte {@code b} (0..255); {@link #dead} if the grammar rejects it. */
    public State advance(State s, int b) {
        State[] next = s.next;
        if (next == null) {
            if (s.stacks.length == 0) return dead;
            next = s.next = new State[256];
        } else if (next[b] != null) {
            return next[b];
        }
        List<Stack> out = new ArrayList<>();
        boolean[] accepts = new boolean[1];
        for (Stack st : s.stacks) {
            if (grammar.admits(grammar.elements[st.pos], b)) expand(st.pos + 1, st.parent, out, accepts, 0);
        }
        State r = out.isEmpty() && !accepts[0] ? dead : state(out, accepts[0]);
        next[b] = r;
        return r;
    }

    /** The state after all of {@code bytes}; {@link #dead} as soon as one is rejected. */
    public State advance(State s, byte[] bytes) {
        for (int k = 0; k < bytes.length && s != dead; k++) s = advance(s, bytes[k] & 0xFF);
        return s;
    }

    /**
     * Continues at element {@code pos} over {@code parent} until every branch stands on a terminal (added to
     * {@code out}) or has emptied its stack ({@code accepts}). A rule reference pushes what follows it, unless
     * that is the end of the alternative (a tail call: right recursion does not grow the stack).
     */
    private void expand(int pos, Stack parent, List<Stack> out, boolean[] accepts, int depth) {
        if (depth > MAX_DEPTH) {
            throw new IllegalStateException("grammar is left-recursive near rule at element " + pos);
        }
        int e = grammar.elements[pos];
        if (e == Grammar.END) {
            if (parent == null) accepts[0] = true;
            else expand(parent.pos, parent.parent, out, accepts, depth + 1);
        } else if (e < 0) {
            Stack st = stack(pos, parent);
            if (!out.contains(st)) out.add(st); // identity: stacks are interned
        } else {
            Stack after = grammar.elements[pos + 1] == Grammar.END ? parent : stack(pos + 1, parent);
            for (int a : grammar.alternatives[e]) expand(a, after, out, accepts, depth + 1);
        }
    }

    private Stack stack(int pos, Stack parent) {
        long key = ((long) (parent == null ? -1 : parent.id) << 32) | (pos & 0xFFFFFFFFL);
        Stack s = stacks.get(key);
        if (s == null) {
            s = new Stack(pos, parent, nextStackId++);
            stacks.put(key, s);
        }
        return s;
    }

    private State state(List<Stack> list, boolean accepts) {
        Stack[] arr = list.toArray(new Stack[0]);
        Arrays.sort(arr, (x, y) -> Integer.compare(x.id, y.id));
        int[] ids = new int[arr.length];
        for (int k = 0; k < arr.length; k++) ids[k] = arr[k].id;
        Key key = new Key(ids, accepts);
        State s = states.get(key);
        if (s == null) {
            if (states.size() >= MAX_STATES) {
                // Drop the tables: held states stay valid, new ones are built afresh (ids keep growing, so a new
                // stack never collides with an old one).
                states = new HashMap<>();
                stacks = new HashMap<>();
            }
            s = new State(arr, accepts);
            states.put(key, s);
        }
        return s;
    }

    /** How many states are interned now. For tests and benches. */
    int stateCount() {
        return states.size();
    }
}
