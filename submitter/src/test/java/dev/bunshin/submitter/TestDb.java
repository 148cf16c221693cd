package dev.bunshin.submitter;

import dev.bunshin.db.JobEmbeddings;
import dev.bunshin.db.JobsTable;
import io.agroal.api.AgroalDataSource;
import io.quarkus.arc.Arc;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;

/**
 * Plays the pipeline in the database through the same {@link JobsTable} calls the scheduler and the tail stage
 * worker make: start a job, write its tokens, end it. No pipeline runs in the submitter's tests.
 */
final class TestDb {

    private TestDb() {}

    /** The first column of the first row, as text. */
    static String query(String sql, Object... args) {
        try (Connection c = Arc.container().instance(AgroalDataSource.class).get().getConnection();
             PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            try (var rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        } catch (SQLException e) {
            throw new IllegalStateException(sql + ": " + e.getMessage(), e);
        }
    }

    /** Runs a statement that returns no rows (DDL, say). */
    static void execute(String sql) {
        try (Connection c = Arc.container().instance(AgroalDataSource.class).get().getConnection();
             var st = c.createStatement()) {
            st.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException(sql + ": " + e.getMessage(), e);
        }
    }

    /** Runs one {@link JobsTable} call in its own connection, as the scheduler and the tail do. */
    private static <T> T table(Call<T> call) {
        try (Connection c = Arc.container().instance(AgroalDataSource.class).get().getConnection()) {
            return call.run(c);
        } catch (SQLException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    private interface Call<T> {
        T run(Connection c) throws SQLException;
    }

    /** The scheduler dispatches the job (under no plan: plan epoch 0). */
    static void start(long job) {
        table(c -> {
            JobsTable.start(c, List.of(job), 0);
            return null;
        });
    }

    /** The tail writes one token (and the first-token time, and the running count). */
    static void token(long job, int position, int tokenId, String text) {
        table(c -> JobsTable.appendTokens(c, List.of(new JobsTable.Token(job, position, tokenId, text, null, null))));
    }

    /**
     * The tail writes one token with the logprobs it computes for a job that asked for {@code k} alternatives
     * ({@link #logprobs}).
     */
    static void token(long job, int position, int tokenId, String text, int k) {
        table(c -> JobsTable.appendTokens(c, List.of(new JobsTable.Token(job, position, tokenId, text, null, null,
                logprobs(position, tokenId, k)))));
    }

    /**
     * The logprobs the played tail gives token {@code position}: {@code -(position + 1) / 4}; its alternatives are
     * itself then ids 300, 301, … with logprobs one lower each time, {@code k} of them.
     */
    static JobsTable.Logprobs logprobs(int position, int tokenId, int k) {
        float lp = -(position + 1) / 4f;
        int[] ids = new int[k];
        float[] lps = new float[k];
        for (int i = 0; i < k; i++) {
            ids[i] = i == 0 ? tokenId : 299 + i;
            lps[i] = lp - i;
        }
        return new JobsTable.Logprobs(lp, ids, lps);
    }

    /** The job ends: final text is the concatenation of its tokens. */
    static void finish(long job, String finishReason) {
        table(c -> JobsTable.complete(c, job, finishReason));
    }

    /** The tail pools an embedding job's prompt: stores its vector and completes it. */
    static void embed(long job, float[] vector) {
        table(c -> JobEmbeddings.complete(c, job, vector));
    }

    /**
     * Plays the pipeline for the next job of this kind queued after {@code afterId}: waits for it, writes the
     * tokens (each text one token, ids 100, 101, …; with {@link #logprobs} when the job asked for them), ends it.
     * Runs in the background; completes with the job id.
     */
    static java.util.concurrent.CompletableFuture<Long> playNext(String kind, long afterId, String finishReason,
                                                                  String... texts) {
        return java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            long deadline = System.nanoTime() + 20_000_000_000L;
            while (System.nanoTime() < deadline) {
                String id = query("SELECT min(id)::text FROM jobs WHERE kind = ? AND id > ? AND status = 'queued'",
                        kind, afterId);
                if (id != null) {
                    long job = Long.parseLong(id);
                    start(job);
                    String k = query("SELECT logprobs::text FROM jobs WHERE id = ?", job);
                    for (int i = 0; i < texts.length; i++) {
                        sleep(15);
                        if (k == null) token(job, i, 100 + i, texts[i]);
                        else token(job, i, 100 + i, texts[i], Integer.parseInt(k));
                    }
                    if ("error".equals(finishReason)) {
                        fail(job, "stage worker 1 lost");
                    } else {
                        finish(job, finishReason);
                    }
                    return job;
                }
                sleep(10);
            }
            throw new IllegalStateException("no " + kind + " job was queued");
        });
    }

    static long maxJobId() {
        String s = query("SELECT coalesce(max(id), 0)::text FROM jobs");
        return Long.parseLong(s);
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static void fail(long job, String error) {
        table(c -> JobsTable.fail(c, job, error));
    }

    /** Deletes played workers and the stage plans that name them. */
    static void removeWorkers(String... ids) {
        for (String table : List.of("stage_plans WHERE worker_id", "workers WHERE id")) {
            try (Connection c = Arc.container().instance(AgroalDataSource.class).get().getConnection();
                 PreparedStatement ps = c.prepareStatement("DELETE FROM " + table + " = ANY (?)")) {
                ps.setArray(1, c.createArrayOf("text", ids));
                ps.executeUpdate();
            } catch (SQLException e) {
                throw new IllegalStateException("removing workers " + List.of(ids) + ": " + e.getMessage(), e);
            }
        }
    }
}
