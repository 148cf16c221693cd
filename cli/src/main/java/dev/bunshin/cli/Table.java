package dev.bunshin.cli;

import java.io.PrintStream;
import java.util.List;

/** Plain aligned columns for terminal output; the last column is not padded. */
final class Table {
    private Table() {}

    static void print(List<String[]> rows, PrintStream out) {
        int cols = rows.getFirst().length;
        int[] w = new int[cols];
        for (String[] r : rows) {
            for (int c = 0; c < cols - 1; c++) w[c] = Math.max(w[c], r[c].length());
        }
        for (String[] r : rows) {
            StringBuilder sb = new StringBuilder();
            for (int c = 0; c < cols; c++) {
                if (c > 0) sb.append("  ");
                sb.append(c == cols - 1 ? r[c] : String.format("%-" + w[c] + "s", r[c]));
            }
            out.println(sb.toString().stripTrailing());
        }
    }
}
