-- Streams (job SSE, OpenAI and Ollama streams) follow a job by LISTEN instead of polling: every committed token
-- and every change of a job's status sends NOTIFY on channel bunshin_job_events with the job id as payload.
-- PostgreSQL delivers notifications at commit, in commit order, and collapses identical ones of one transaction,
-- so a tail that writes several tokens of a job in one transaction sends one. Nothing else depends on them:
-- a listener that misses one (reconnecting) still finds the rows on its next read.

-- TG_ARGV[0]: the column of NEW that holds the job id.
CREATE FUNCTION bunshin_notify_job_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('bunshin_job_events', to_jsonb(NEW) ->> TG_ARGV[0]);
    RETURN NULL;
END
$$;

CREATE TRIGGER job_tokens_notify AFTER INSERT ON job_tokens
    FOR EACH ROW EXECUTE FUNCTION bunshin_notify_job_event('job_id');

CREATE TRIGGER jobs_status_notify AFTER UPDATE OF status ON jobs
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION bunshin_notify_job_event('id');
