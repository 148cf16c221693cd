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

    /** One stored token: its position among the generated tokens, its id, and its text (as stored). */
    public record Token(int position, int tokenId, String text) {}

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
