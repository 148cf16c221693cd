package dev.bunshin.protocol.events;

/**
 * A batch's committed change of status or progress.
 *
 * @param batch     the batch id ({@code batch_...})
 * @param status    the batch's status after the change (OpenAI's: {@code in_progress}, {@code cancelling}, ...)
 * @param completed requests completed so far
 * @param failed    requests failed so far
 * @param total     requests in the batch
 */
public record BatchEvent(String batch, String status, int completed, int failed, int total) implements Event {

    public BatchEvent {
        if (batch == null || batch.isBlank()) throw new IllegalArgumentException("blank batch id");
        if (status == null || status.isBlank()) throw new IllegalArgumentException("batch " + batch + ": blank status");
    }

    @Override
    public String key() {
        return batch;
    }
}
