-- Jobs and their generated tokens: the contract between the submitter (writes jobs, reads tokens),
-- the scheduler (dispatches queued jobs) and the tail stage worker (writes tokens, ends jobs).
-- Migration numbers: V3..V9 submitter/API, V10..V19 scheduler/workers.

CREATE TABLE jobs (
    id                bigserial PRIMARY KEY,          -- also the engine's sequence id and the Kafka record key
    model             text        NOT NULL,            -- model id (Ollama name or file name without .gguf)
    kind              text        NOT NULL DEFAULT 'completion', -- completion | chat | ollama-generate | ...
    prompt            text        NOT NULL,            -- rendered prompt text (chat already templated)
    prompt_tokens     int[]       NOT NULL,            -- tokenized by the submitter (BOS included when the model wants it)
    max_tokens        int         NOT NULL CHECK (max_tokens > 0),
    temperature       real        NOT NULL DEFAULT 0,  -- 0 = greedy
    top_k             int         NOT NULL DEFAULT 0,
    top_p             real        NOT NULL DEFAULT 1,
    min_p             real        NOT NULL DEFAULT 0,
    repeat_penalty    real        NOT NULL DEFAULT 1,
    presence_penalty  real        NOT NULL DEFAULT 0,
    frequency_penalty real        NOT NULL DEFAULT 0,
    seed              bigint      NOT NULL DEFAULT 0,
    stop              text[]      NOT NULL DEFAULT '{}', -- stop strings; generation ends before them
    stop_tokens       int[]       NOT NULL DEFAULT '{}', -- extra token ids that end generation (chat end-of-turn)
    status            text        NOT NULL DEFAULT 'queued'
                      CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled')),
    finish_reason     text        CHECK (finish_reason IN ('stop', 'length', 'cancelled', 'error')),
    error             text,
    token_count       int         NOT NULL DEFAULT 0,  -- generated tokens written so far
    text              text,                            -- final generated text, set when the job ends
    batch_id          text,                            -- set for jobs created from a batch file
    custom_id         text,                            -- the batch line's custom_id
    batch_line        int,                             -- 1-based line in the batch file
    created_at        timestamptz NOT NULL DEFAULT now(), -- queued
    started_at        timestamptz,                     -- dispatched to stage 0
    first_token_at    timestamptz,
    finished_at       timestamptz
);

CREATE INDEX jobs_status_id ON jobs (status, id);
CREATE INDEX jobs_batch ON jobs (batch_id, batch_line) WHERE batch_id IS NOT NULL;

-- One row per generated token. (job_id, position) is the key, so a redelivered record cannot duplicate or
-- reorder tokens: the tail inserts with ON CONFLICT DO NOTHING. position counts generated tokens from 0.
-- text is the text this token releases: complete UTF-8 only, and held back while it could still be the start
-- of a stop string, so the concatenation of text in position order is exactly the job's output.
CREATE TABLE job_tokens (
    job_id     bigint      NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    position   int         NOT NULL CHECK (position >= 0),
    token_id   int         NOT NULL,
    text       text        NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (job_id, position)
);
