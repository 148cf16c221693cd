-- Batches and files: owned by the submitter (V3..V9). A batch is a JSONL file of requests; each valid line
-- becomes one jobs row (jobs.batch_id, jobs.custom_id, jobs.batch_line), each invalid line one batch_errors
-- row. Progress is counted from the jobs rows, so the pipeline needs to know nothing about batches.

-- Uploaded input files (OpenAI /v1/files, purpose batch) and the output/error files written when a batch ends.
CREATE TABLE files (
    id         text        PRIMARY KEY,              -- file-<hex>
    purpose    text        NOT NULL,                 -- batch | batch_output | batch_error
    filename   text        NOT NULL,
    bytes      bigint      NOT NULL,
    content    bytea       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE batches (
    id                text        PRIMARY KEY,       -- batch_<hex>
    status            text        NOT NULL
                      CHECK (status IN ('validating', 'in_progress', 'finalizing', 'completed', 'failed',
                                        'expired', 'cancelling', 'cancelled')),
    endpoint          text,                          -- OpenAI batches: the url every line must name; null = any
    completion_window text        NOT NULL DEFAULT '24h',
    input_file_id     text        REFERENCES files (id),
    output_file_id    text        REFERENCES files (id),
    error_file_id     text        REFERENCES files (id),
    metadata          text,                          -- client metadata, JSON text as given
    total             int         NOT NULL DEFAULT 0, -- non-blank lines in the input
    invalid           int         NOT NULL DEFAULT 0, -- lines rejected at submission (in batch_errors)
    created_at        timestamptz NOT NULL DEFAULT now(),
    in_progress_at    timestamptz,
    finalizing_at     timestamptz,
    completed_at      timestamptz,
    failed_at         timestamptz,
    cancelling_at     timestamptz,
    cancelled_at      timestamptz
);

CREATE INDEX batches_open ON batches (status) WHERE status IN ('in_progress', 'cancelling', 'finalizing');

-- One row per rejected input line: what was wrong, and where.
CREATE TABLE batch_errors (
    batch_id  text NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
    line      int  NOT NULL,                         -- 1-based line number in the input file
    custom_id text,
    param     text,                                  -- the offending field, e.g. body.max_tokens
    code      text NOT NULL,
    message   text NOT NULL,
    PRIMARY KEY (batch_id, line)
);
