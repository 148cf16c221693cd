-- The scheduler ticks every bunshin.scheduler.tick (200 ms) and also at once when something it acts on changes:
-- jobs queued (a batch inserts many rows: one notification per statement), a job ending (a running slot
-- frees), a worker registering, loading its layers or going away (the plan changes). Heartbeats do not notify.

CREATE FUNCTION bunshin_notify_scheduler() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('bunshin_scheduler', TG_TABLE_NAME);
    RETURN NULL;
END
$$;

CREATE TRIGGER jobs_queued_wake_scheduler AFTER INSERT ON jobs
    FOR EACH STATEMENT EXECUTE FUNCTION bunshin_notify_scheduler();

CREATE TRIGGER jobs_ended_wake_scheduler AFTER UPDATE OF status ON jobs
    FOR EACH ROW WHEN (NEW.status IN ('completed', 'failed', 'cancelled') AND OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION bunshin_notify_scheduler();

CREATE TRIGGER workers_wake_scheduler AFTER INSERT OR DELETE OR UPDATE OF status, loaded_epoch, load_error ON workers
    FOR EACH STATEMENT EXECUTE FUNCTION bunshin_notify_scheduler();
