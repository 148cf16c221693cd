package dev.bunshin.db;

import java.sql.Array;
import java.sql.SQLException;

/** PostgreSQL {@code int[]} and {@code real[]} columns of the jobs contract (prompt_tokens, stop_tokens, generated tokens, top logprobs) as Java arrays. */
public final class SqlArrays {
    private SqlArrays() {}

    /** The column's values; an SQL NULL array is empty. */
    public static int[] ints(Array a) throws SQLException {
        if (a == null) return new int[0];
        Object o = a.getArray();
        if (o instanceof Integer[] boxed) {
            int[] out = new int[boxed.length];
            for (int i = 0; i < out.length; i++) out[i] = boxed[i];
            return out;
        }
        if (o instanceof int[] prim) return prim;
        throw new SQLException("expected an int[] column, got " + o.getClass().getName());
    }

    /** A {@code real[]} column's values; an SQL NULL array is empty. */
    public static float[] floats(Array a) throws SQLException {
        if (a == null) return new float[0];
        Object o = a.getArray();
        if (o instanceof Float[] boxed) {
            float[] out = new float[boxed.length];
            for (int i = 0; i < out.length; i++) out[i] = boxed[i];
            return out;
        }
        if (o instanceof float[] prim) return prim;
        throw new SQLException("expected a real[] column, got " + o.getClass().getName());
    }
}
