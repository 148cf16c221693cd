package dev.bunshin.submitter.batches;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.IdClass;
import jakarta.persistence.Table;

import java.io.Serializable;

/** A row of {@code batch_errors} (V3): one rejected input line, its number, the offending field and why. */
@Entity
@Table(name = "batch_errors")
@IdClass(BatchError.Key.class)
public class BatchError extends PanacheEntityBase {

    public record Key(String batchId, int line) implements Serializable {
        public Key() {
            this(null, 0);
        }
    }

    @Id
    @Column(name = "batch_id")
    public String batchId;
    @Id
    public int line;
    @Column(name = "custom_id")
    public String customId;
    public String param;
    public String code;
    public String message;
}
