package dev.bunshin.cli;

import java.util.List;
import java.util.Locale;

/** The SVG of {@code bench cluster --plot}: aggregate tok/s against jobs in flight, 1 node and N nodes. */
final class ClusterPlot {
    private ClusterPlot() {}

    private static final int W = 640;
    private static final int H = 400;
    private static final int LEFT = 70;
    private static final int RIGHT = 150;
    private static final int TOP = 40;
    private static final int BOTTOM = 50;

    /** A self-contained SVG (no external fonts, scripts or images); x is log2 of the job count. */
    static String svg(String title, List<ClusterBench.Row> single, List<ClusterBench.Row> cluster) {
        double maxJobs = Math.max(single.getLast().jobs(), cluster.getLast().jobs());
        double minJobs = Math.min(single.getFirst().jobs(), cluster.getFirst().jobs());
        double maxY = 0;
        for (ClusterBench.Row r : single) maxY = Math.max(maxY, r.aggregate());
        for (ClusterBench.Row r : cluster) maxY = Math.max(maxY, r.aggregate());
        maxY = niceCeil(maxY * 1.1);
        double lo = log2(minJobs);
        double hi = Math.max(lo + 1, log2(maxJobs));
        StringBuilder s = new StringBuilder();
        s.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                + "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">%n", W, H, W, H));
        s.append(String.format("<rect width=\"%d\" height=\"%d\" fill=\"white\"/>%n", W, H));
        s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"22\" font-size=\"14\">%s</text>%n", LEFT, escape(title)));
        int x0 = LEFT;
        int x1 = W - RIGHT;
        int y0 = H - BOTTOM;
        int y1 = TOP;
        s.append(String.format("<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>%n", x0, y0, x1, y0));
        s.append(String.format("<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>%n", x0, y0, x0, y1));
        for (int t = 0; t <= 5; t++) {
            double v = maxY * t / 5;
            double y = y0 - (y0 - y1) * t / 5.0;
            s.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>%n", x0, y, x1, y));
            s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>%n", x0 - 6, y + 4,
                    v == Math.rint(v) ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%.1f", v)));
        }
        for (ClusterBench.Row r : cluster) {
            double x = x0 + (x1 - x0) * (log2(r.jobs()) - lo) / (hi - lo);
            s.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%d</text>%n", x, y0 + 18, r.jobs()));
        }
        s.append(String.format("<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">jobs in flight</text>%n", (x0 + x1) / 2, H - 12));
        s.append(String.format("<text transform=\"translate(16 %d) rotate(-90)\" text-anchor=\"middle\">tok/s, all jobs</text>%n",
                (y0 + y1) / 2));
        series(s, single, "#1f77b4", "1 node", 0, x0, x1, y0, y1, lo, hi, maxY);
        series(s, cluster, "#d62728", cluster.getFirst().nodes() + " nodes", 1, x0, x1, y0, y1, lo, hi, maxY);
        s.append("</svg>\n");
        return s.toString();
    }

    private static void series(StringBuilder s, List<ClusterBench.Row> rows, String color, String label, int index,
                               int x0, int x1, int y0, int y1, double lo, double hi, double maxY) {
        StringBuilder points = new StringBuilder();
        for (ClusterBench.Row r : rows) {
            double x = x0 + (x1 - x0) * (log2(r.jobs()) - lo) / (hi - lo);
            double y = y0 - (y0 - y1) * r.aggregate() / maxY;
            points.append(String.format(Locale.ROOT, "%.1f,%.1f ", x, y));
            s.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\"/>%n", x, y, color));
            s.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" fill=\"%s\" font-size=\"10\">%.1f</text>%n",
                    x + 6, y - 6, color, r.aggregate()));
        }
        s.append(String.format("<polyline points=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"/>%n",
                points.toString().strip(), color));
        int ly = y1 + 10 + 20 * index;
        s.append(String.format("<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"2\"/>%n",
                x1 + 15, ly, x1 + 40, ly, color));
        s.append(String.format("<text x=\"%d\" y=\"%d\">%s</text>%n", x1 + 46, ly + 4, escape(label)));
    }

    private static double log2(double x) {
        return Math.log(x) / Math.log(2);
    }

    /** The next of 1, 2, 5 × 10^k at or above v. */
    static double niceCeil(double v) {
        if (v <= 0) return 1;
        double p = Math.pow(10, Math.floor(Math.log10(v)));
        for (double m : new double[] {1, 2, 5, 10}) {
            if (m * p >= v) return m * p;
        }
        return 10 * p;
    }

    private static String escape(String t) {
        return t.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
