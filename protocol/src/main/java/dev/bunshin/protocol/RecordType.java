package dev.bunshin.protocol;

/** What an {@link ActivationRecord} asks a stage to do. The wire code is stable: never renumber. */
public enum RecordType {
    /** A chunk of a job's prompt (or of prompt + generated tokens when a job is re-prefilled after a re-plan). */
    PREFILL(1),
    /** One generated token fed back to stage 0 by the tail; its output samples the next token. */
    DECODE(2),
    /** Drop the job's state (KV cache, tail bookkeeping). Flows through every stage after the job's last record. */
    FREE(3);

    final int code;

    RecordType(int code) {
        this.code = code;
    }

    static RecordType ofCode(int code) {
        for (RecordType t : values()) {
            if (t.code == code) return t;
        }
        throw new ProtocolException("unknown record type code " + code);
    }
}
