package dev.bunshin.submitter.jobs;

import dev.bunshin.db.JobStatus;
import dev.bunshin.submitter.model.ToolCallFormat;
import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import org.hibernate.annotations.DynamicUpdate;
import org.hibernate.annotations.ColumnTransformer;
import org.hibernate.annotations.Generated;

import java.time.Instant;

/**
 * A row of {@code jobs} (db/migrations/V2__jobs_and_tokens.sql). The submitter inserts it; the scheduler and the
 * tail stage worker move it along. The submitter never saves a loaded Job back (others write its columns
 * concurrently): state changes are single conditional UPDATEs in {@link JobService}.
 */
@Entity
@Table(name = "jobs")
@DynamicUpdate
public class Job extends PanacheEntityBase {

    // The status column's values (JobStatus, db/): the entity maps the column as text.
    public static final String QUEUED = JobStatus.QUEUED.sql();
    public static final String RUNNING = JobStatus.RUNNING.sql();
    public static final String COMPLETED = JobStatus.COMPLETED.sql();
    public static final String FAILED = JobStatus.FAILED.sql();
    public static final String CANCELLED = JobStatus.CANCELLED.sql();

    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long id;

    public String model;
    public String kind;
    public String prompt;
    @Column(name = "prompt_tokens")
    public int[] promptTokens;
    @Column(name = "max_tokens")
    public int maxTokens;
    public float temperature;
    @Column(name = "top_k")
    public int topK;
    @Column(name = "top_p")
    public float topP;
    @Column(name = "min_p")
    public float minP;
    @Column(name = "repeat_penalty")
    public float repeatPenalty;
    @Column(name = "presence_penalty")
    public float presencePenalty;
    @Column(name = "frequency_penalty")
    public float frequencyPenalty;
    public long seed;
    public String[] stop;
    @Column(name = "stop_tokens")
    public int[] stopTokens;
    /** How many alternatives per token the job reports logprobs for (V20); null: no logprobs. */
    public Integer logprobs;
    /** How the reply writes tool calls (V23, {@link ToolCallFormat#sql()}); null: no tools, the reply is text. */
    @Column(name = "tool_call_format")
    public String toolCallFormat;
    /** At most one tool call is answered, the reply's first (V24; {@code "parallel_tool_calls": false}). */
    @Column(name = "single_tool_call")
    public boolean singleToolCall;
    /**
     * The document the output must be (V21; the engine's ResponseFormat as JSON); null: free text. A json column,
     * written as text so the schema's property order (the generation order) survives.
     */
    @ColumnTransformer(write = "?::json")
    @Column(name = "response_format")
    public String responseFormat;
    public String status;
    /** An embedding job's pooled vector, not normalised (V22); null for other jobs and until it completes. */
    @Column(insertable = false, updatable = false)
    public float[] embedding;
    @Column(name = "finish_reason")
    public String finishReason;
    public String error;
    @Column(name = "token_count")
    public int tokenCount;
    public String text;
    @Column(name = "batch_id")
    public String batchId;
    @Column(name = "custom_id")
    public String customId;
    @Column(name = "batch_line")
    public Integer batchLine;
    /** The SHA-256 of the API key that created the job (V15); null in open mode. */
    public String owner;
    @Generated
    @Column(name = "created_at", insertable = false, updatable = false)
    public Instant createdAt;
    @Column(name = "started_at", insertable = false, updatable = false)
    public Instant startedAt;
    @Column(name = "first_token_at", insertable = false, updatable = false)
    public Instant firstTokenAt;
    @Column(name = "finished_at", insertable = false, updatable = false)
    public Instant finishedAt;

    public boolean isFinished() {
        return isFinished(status);
    }

    public static boolean isFinished(String status) {
        return JobStatus.of(status).isFinal();
    }

    public static Job of(JobSpec spec) {
        Job j = new Job();
        j.model = spec.model();
        j.kind = spec.kind();
        j.prompt = spec.prompt();
        j.promptTokens = spec.promptTokens();
        j.maxTokens = spec.maxTokens();
        Sampling s = spec.sampling();
        j.temperature = (float) s.temperature();
        j.topK = s.topK();
        j.topP = (float) s.topP();
        j.minP = (float) s.minP();
        j.repeatPenalty = (float) s.repeatPenalty();
        j.presencePenalty = (float) s.presencePenalty();
        j.frequencyPenalty = (float) s.frequencyPenalty();
        j.seed = spec.seed();
        j.stop = spec.stop().toArray(String[]::new);
        j.stopTokens = spec.stopTokens();
        j.logprobs = spec.logprobs();
        j.toolCallFormat = spec.toolCallFormat() == null ? null : spec.toolCallFormat().sql();
        j.singleToolCall = spec.singleToolCall();
        j.responseFormat = spec.responseFormat();
        j.status = QUEUED;
        j.tokenCount = 0;
        return j;
    }
}
