-- Embeddings (issue 12): a job of kind 'embedding' is prefilled through the stages like any other, but the tail pools
-- the final hidden states (after the output norm) of all its prompt positions instead of sampling, stores the pooled
-- vector here (not normalised: the API normalises), and completes the job with finish_reason 'stop' and no tokens.
ALTER TABLE jobs ADD COLUMN embedding real[];
ALTER TABLE jobs ADD CONSTRAINT jobs_embedding_kind CHECK (embedding IS NULL OR kind = 'embedding');
