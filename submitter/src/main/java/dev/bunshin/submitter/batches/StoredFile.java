package dev.bunshin.submitter.batches;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Basic;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.FetchType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

import java.security.SecureRandom;
import java.time.Instant;
import java.util.HexFormat;

/** A row of {@code files} (V3): an uploaded batch input, or a batch's output or error file. */
@Entity
@Table(name = "files")
public class StoredFile extends PanacheEntityBase {

    private static final SecureRandom RANDOM = new SecureRandom();

    @Id
    public String id;
    public String purpose;
    public String filename;
    public long bytes;
    /** The SHA-256 of the API key that uploaded the file or created its batch (V15); null in open mode. */
    public String owner;
    @Basic(fetch = FetchType.LAZY)
    public byte[] content;
    @Column(name = "created_at")
    public Instant createdAt;

    static StoredFile of(String purpose, String filename, byte[] content, String owner) {
        StoredFile f = new StoredFile();
        f.owner = owner;
        f.id = newId("file-");
        f.purpose = purpose;
        f.filename = filename;
        f.bytes = content.length;
        f.content = content;
        f.createdAt = Instant.now();
        return f;
    }

    /** A random id with a prefix, as OpenAI's look ({@code file-…}, {@code batch_…}). */
    static String newId(String prefix) {
        byte[] b = new byte[12];
        RANDOM.nextBytes(b);
        return prefix + HexFormat.of().formatHex(b);
    }
}
