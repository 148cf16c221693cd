-- Streams follow jobs through events on Kafka (topic bunshin.events: the tail publishes each committed transaction's
-- tokens, the scheduler and the submitter the status changes they make), no longer through NOTIFY. A NOTIFY per
-- token insert made every tail commit take PostgreSQL's global notification queue lock, and woke every stream
-- for a SELECT per token; see docs/benchmarks.md, "Job events: NOTIFY against Kafka".
DROP TRIGGER job_tokens_notify ON job_tokens;
DROP TRIGGER jobs_status_notify ON jobs;
DROP FUNCTION bunshin_notify_job_event();
