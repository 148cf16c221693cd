package dev.bunshin.protocol.events;

import java.util.List;

/**
 * A job's committed change: the tokens one tail transaction stored for it (in position order, possibly none) and
 * its status after that transaction.
 *
 * @param job          the job id
 * @param status       the job's status after the change ({@code running}, {@code completed}, {@code failed},
 *                     {@code cancelled}, ...)
 * @param finishReason why it ended ({@code stop}, {@code length}), or null
 * @param tokens       the tokens stored, ascending and contiguous in position
 */
public record JobEvent(long job, String status, String finishReason, List<Token> tokens) implements Event {

    /**
     * One stored token: its position among the generated tokens, its id, its text (as stored), and its logprobs if
     * its job asked for them (else null).
     */
    public record Token(int position, int tokenId, String text, Logprobs logprobs) {
        /** A token without logprobs. */
        public Token(int position, int tokenId, String text) {
            this(position, tokenId, text, null);
        }
    }

    /**
     * A token's log-probability and its top alternatives, most likely first.
     *
     * @param topIds      [k]
     * @param topLogprobs [k]
     */
    public record Logprobs(float logprob, int[] topIds, float[] topLogprobs) {
        public Logprobs {
            if (topIds.length != topLogprobs.length) {
                throw new IllegalArgumentException(topIds.length + " top ids but " + topLogprobs.length + " logprobs");
            }
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Logprobs l && Float.compare(logprob, l.logprob) == 0
                    && java.util.Arrays.equals(topIds, l.topIds) && java.util.Arrays.equals(topLogprobs, l.topLogprobs);
        }

        @Override
        public int hashCode() {
            return 31 * (31 * Float.hashCode(logprob) + java.util.Arrays.hashCode(topIds))
                    + java.util.Arrays.hashCode(topLogprobs);
        }

        @Override
        public String toString() {
            return "Logprobs[" + logprob + ", top " + java.util.Arrays.toString(topIds) + " "
                    + java.util.Arrays.toString(topLogprobs) + "]";
        }
    }

    public JobEvent {
        if (status == null || status.isBlank()) throw new IllegalArgumentException("job " + job + ": blank status");
        tokens = List.copyOf(tokens);
        for (int i = 1; i < tokens.size(); i++) {
            if (tokens.get(i).position() != tokens.get(i - 1).position() + 1) {
                throw new IllegalArgumentException("job " + job + ": token positions not contiguous at " + tokens);
            }
        }
    }

    /** A status change without tokens. */
    public static JobEvent status(long job, String status) {
        return new JobEvent(job, status, null, List.of());
    }

    /** Whether the job has ended with this change. */
    public boolean ends() {
        return !status.equals("running") && !status.equals("queued");
    }

    @Override
    public String key() {
        return Long.toString(job);
    }
}
