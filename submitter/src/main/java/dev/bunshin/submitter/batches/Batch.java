package dev.bunshin.submitter.batches;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

import java.time.Instant;
import java.util.List;

/** A row of {@code batches} (V3): a JSONL file of requests, one job per valid line. Status follows OpenAI's lifecycle. */
@Entity
@Table(name = "batches")
public class Batch extends PanacheEntityBase {

    public static final String VALIDATING = "validating";
    public static final String IN_PROGRESS = "in_progress";
    public static final String FINALIZING = "finalizing";
    public static final String COMPLETED = "completed";
    public static final String FAILED = "failed";
    public static final String CANCELLING = "cancelling";
    public static final String CANCELLED = "cancelled";

    /** Statuses in which jobs may still be running and the batch has not written its output. */
    public static final List<String> OPEN = List.of(VALIDATING, IN_PROGRESS, FINALIZING, CANCELLING);

    @Id
    public String id;
    public String status;
    public String endpoint;
    @Column(name = "completion_window")
    public String completionWindow;
    @Column(name = "input_file_id")
    public String inputFileId;
    @Column(name = "output_file_id")
    public String outputFileId;
    @Column(name = "error_file_id")
    public String errorFileId;
    public String metadata;
    /** The SHA-256 of the API key that created the batch (V15); null in open mode. */
    public String owner;
    public int total;
    public int invalid;
    @Column(name = "created_at")
    public Instant createdAt;
    @Column(name = "in_progress_at")
    public Instant inProgressAt;
    @Column(name = "finalizing_at")
    public Instant finalizingAt;
    @Column(name = "completed_at")
    public Instant completedAt;
    @Column(name = "failed_at")
    public Instant failedAt;
    @Column(name = "cancelling_at")
    public Instant cancellingAt;
    @Column(name = "cancelled_at")
    public Instant cancelledAt;

    public boolean isOpen() {
        return OPEN.contains(status);
    }
}
