-- Logprobs (issue 12): a job that asks for them has jobs.logprobs = how many alternatives per token (0..20; null:
-- none asked, and the tail computes nothing). For such a job the tail writes, per token, its log-probability and
-- the top alternatives (ids and log-probabilities, most likely first) of the distribution it sampled from; the
-- submitter decodes the ids with the model's tokenizer when it answers.
ALTER TABLE jobs ADD COLUMN logprobs int CHECK (logprobs BETWEEN 0 AND 20);
ALTER TABLE job_tokens ADD COLUMN logprob real;
ALTER TABLE job_tokens ADD COLUMN top_ids int[];
ALTER TABLE job_tokens ADD COLUMN top_logprobs real[];
