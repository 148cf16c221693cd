package dev.bunshin.submitter.jobs;

import dev.bunshin.db.SqlArrays;
import dev.bunshin.protocol.events.JobEvent;
import dev.bunshin.submitter.api.ApiException;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import javax.sql.DataSource;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * Follows a job's tokens as the tail stage worker writes them to {@code job_tokens}, for every streaming API
 * (job SSE, OpenAI and Ollama streams, blocking completions). Reads the job row and the tokens after the last one
 * delivered, in one statement, so a finished status comes with every token written before the job ended; then
 * takes the next tokens from the job's events ({@link JobEvents}: the tail publishes each commit's tokens to Kafka)
 * without touching the database, until an event ends the job or cannot be used (a gap, a lost connection), or a
 * quiet spell passes: then it reads again. While no events arrive (no broker), it polls. Tokens are delivered in
 * position order without gaps or duplicates.
 */
@ApplicationScoped
public class TokenFeed {

    /** A stored token; {@code logprobs} null unless its job asked for them (jobs.logprobs, V20). */
    public record Token(int position, int tokenId, String text, JobEvent.Logprobs logprobs) {
        public Token(int position, int tokenId, String text) {
            this(position, tokenId, text, null);
        }
    }

    /** How the job ended. {@code text} is jobs.text (null if the tail set none). */
    public record End(String status, String finishReason, String error, int tokenCount, int promptTokens,
                      String text) {}

    public interface Listener {
        /** A token, in order. Throwing (e.g. IOException: the client went away) stops the feed. */
        void token(Token t) throws IOException;

        /**
         * Called at least every {@link #CHECK_MILLIS} while the feed waits: throwing (IOException: the client went
         * away) stops the feed, as from {@link #token}.
         */
        default void check() throws IOException {}

        /**
         * Called after {@code bunshin.api.keepalive-ms} without tokens (queued, or a silent stretch), and again after
         * each such interval: a chance to send a keep-alive, so proxies and clients do not time the stream out.
         */
        default void idle() throws IOException {}

        /** A listener of tokens that answers idleness with {@code keepAlive} and checks on {@code client}. */
        static Listener withKeepAlive(Listener tokens, KeepAlive keepAlive, Client client) {
            return new Listener() {
                @Override
                public void token(Token t) throws IOException {
                    tokens.token(t);
                }

                @Override
                public void check() throws IOException {
                    client.check();
                }

                @Override
                public void idle() throws IOException {
                    keepAlive.send();
                }
            };
        }
    }

    /** Something a stream sends while it has nothing to say. */
    public interface KeepAlive {
        void send() throws IOException;
    }

    private static final int PAGE = 512;
    /** How often a waiting feed asks its listener whether to go on ({@link Listener#check}). */
    static final long CHECK_MILLIS = 500;

    private final DataSource ds;
    private final JobEvents events;
    private final long pollMillis;
    private final long notifiedPollMillis;
    private final long idleMillis;

    TokenFeed(DataSource ds, JobEvents events,
              @ConfigProperty(name = "bunshin.api.poll-ms", defaultValue = "25") long pollMillis,
              @ConfigProperty(name = "bunshin.api.notified-poll-ms", defaultValue = "1000") long notifiedPollMillis,
              @ConfigProperty(name = "bunshin.api.keepalive-ms", defaultValue = "10000") long idleMillis) {
        this.ds = ds;
        this.events = events;
        this.pollMillis = pollMillis;
        this.notifiedPollMillis = notifiedPollMillis;
        this.idleMillis = idleMillis;
    }

    /**
     * Delivers the tokens at positions {@code > after} until the job has ended and all its tokens are delivered.
     *
     * @throws ApiException 404 if the job does not exist (or was deleted meanwhile)
     */
    public End follow(long jobId, int after, Listener listener) throws IOException, InterruptedException {
        try (JobEvents.Watch watch = events.watch(jobId)) {
            return follow(jobId, after, listener, watch);
        }
    }

    private End follow(long jobId, int after, Listener listener, JobEvents.Watch watch)
            throws IOException, InterruptedException {
        int next = after + 1;
        long lastActivity = System.nanoTime(); // the last token or keep-alive sent
        long lastHeard = System.nanoTime(); // the last read or event
        boolean read = true;
        while (true) {
            if (read) {
                lastHeard = System.nanoTime();
                // The watch was opened before this read: an event of a commit the read misses is queued, and one of
                // a commit it saw is a duplicate, skipped by position below.
                End state;
                List<Token> rows = new ArrayList<>();
                try (Connection c = ds.getConnection()) {
                    state = read(c, jobId, next, rows);
                    if (state == null) {
                        throw ApiException.notFound("id", "job_not_found", "job " + jobId + " does not exist");
                    }
                } catch (SQLException e) {
                    throw new IOException("reading tokens of job " + jobId + ": " + e.getMessage(), e);
                }
                boolean finished = Job.isFinished(state.status());
                int delivered = 0;
                for (Token t : rows) {
                    if (t.position() != next && !finished) {
                        break; // a gap: the missing position's insert is not visible yet
                    }
                    listener.token(t);
                    next = t.position() + 1;
                    delivered++;
                }
                if (finished && rows.size() < PAGE) {
                    // token_count is the tail's; the positions delivered are what the client saw
                    return new End(state.status(), state.finishReason(), state.error(),
                            Math.max(state.tokenCount(), next), state.promptTokens(), state.text());
                }
                if (delivered > 0) {
                    lastActivity = System.nanoTime();
                    if (rows.size() == PAGE) {
                        continue;
                    }
                }
                read = false;
            }
            if ((System.nanoTime() - lastActivity) / 1_000_000 >= idleMillis) {
                listener.idle();
                lastActivity = System.nanoTime();
            }
            // Listening: the tokens come in events; read again only after a quiet spell (an event lost) or when an
            // event cannot be used. Not listening: poll. Either way wake in time for the next keep-alive.
            long untilIdle = idleMillis - (System.nanoTime() - lastActivity) / 1_000_000;
            long poll = events.listening() ? notifiedPollMillis : pollMillis;
            long untilPoll = poll - (System.nanoTime() - lastHeard) / 1_000_000;
            JobEvents.News news = watch.await(Math.max(1, Math.min(Math.min(untilPoll, untilIdle), CHECK_MILLIS)));
            listener.check();
            if (news.resync() || news.events().isEmpty()) {
                // read on a resync or after a quiet spell; not for a keep-alive or client check wake-up alone
                read = news.resync() || (System.nanoTime() - lastHeard) / 1_000_000 >= poll;
                continue;
            }
            lastHeard = System.nanoTime();
            for (JobEvent e : news.events()) {
                for (JobEvent.Token t : e.tokens()) {
                    if (t.position() < next) continue; // already delivered (from the database or an event)
                    if (t.position() > next) {
                        read = true; // a gap: an event was lost
                        break;
                    }
                    listener.token(new Token(t.position(), t.tokenId(), t.text(), t.logprobs()));
                    next++;
                    lastActivity = System.nanoTime();
                }
                if (read || e.ends()) {
                    read = true; // how it ended (its text, counts) is the row's
                    break;
                }
            }
        }
    }

    /** The current state of a job without waiting, or null if it does not exist. */
    public End state(long jobId) throws IOException {
        try (Connection c = ds.getConnection()) {
            return readState(c, jobId);
        } catch (SQLException e) {
            throw new IOException("reading job " + jobId + ": " + e.getMessage(), e);
        }
    }

    /**
     * The job's state and its tokens from position {@code from}, in one statement: one snapshot, so a finished
     * status comes with every token the tail committed before it (and one round trip per poll, not two).
     */
    private static End read(Connection c, long jobId, int from, List<Token> rows) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT j.status, j.finish_reason, j.error, j.token_count, cardinality(j.prompt_tokens), j.text,
                       t.position, t.token_id, t.text, t.logprob, t.top_ids, t.top_logprobs
                  FROM jobs j
                  LEFT JOIN LATERAL (SELECT position, token_id, text, logprob, top_ids, top_logprobs FROM job_tokens
                                      WHERE job_id = j.id AND position >= ? ORDER BY position LIMIT %d) t ON true
                 WHERE j.id = ?
                 ORDER BY t.position""".formatted(PAGE))) {
            ps.setInt(1, from);
            ps.setLong(2, jobId);
            End state = null;
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    if (state == null) {
                        state = new End(rs.getString(1), rs.getString(2), rs.getString(3), rs.getInt(4), rs.getInt(5),
                                rs.getString(6));
                    }
                    rs.getInt(7);
                    if (!rs.wasNull()) {
                        rows.add(token(rs, 7));
                    }
                }
            }
            return state;
        }
    }

    /**
     * Every stored token of a job, in position order, with its logprobs: what a blocking answer or a batch output
     * line that asked for logprobs reports.
     */
    public List<Token> tokens(long jobId) throws IOException {
        List<Token> out = new ArrayList<>();
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement("""
                SELECT position, token_id, text, logprob, top_ids, top_logprobs FROM job_tokens
                 WHERE job_id = ? ORDER BY position""")) {
            ps.setLong(1, jobId);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.add(token(rs, 1));
            }
        } catch (SQLException e) {
            throw new IOException("reading tokens of job " + jobId + ": " + e.getMessage(), e);
        }
        return out;
    }

    /** The token in columns {@code at}.. of a row: position, token_id, text, logprob, top_ids, top_logprobs. */
    private static Token token(ResultSet rs, int at) throws SQLException {
        int position = rs.getInt(at);
        int tokenId = rs.getInt(at + 1);
        String text = rs.getString(at + 2);
        float logprob = rs.getFloat(at + 3);
        if (rs.wasNull()) return new Token(position, tokenId, text);
        return new Token(position, tokenId, text, new JobEvent.Logprobs(logprob,
                SqlArrays.ints(rs.getArray(at + 4)), SqlArrays.floats(rs.getArray(at + 5))));
    }

    private static End readState(Connection c, long jobId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT status, finish_reason, error, token_count, cardinality(prompt_tokens), text FROM jobs WHERE id = ?")) {
            ps.setLong(1, jobId);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                return new End(rs.getString(1), rs.getString(2), rs.getString(3), rs.getInt(4), rs.getInt(5),
                        rs.getString(6));
            }
        }
    }
}
