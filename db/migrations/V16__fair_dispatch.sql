-- Fair dispatch (issue 10): JobsTable.lockQueued takes interactive jobs (batch_id IS NULL) before batch jobs, and
-- within each class goes round-robin across owners (API keys). This index serves both of its scans: the skip
-- scan over the (class, owner) pairs that have queued jobs, and each pair's oldest queued jobs.
-- The expressions and the predicate must match lockQueued's SQL exactly for the planner to use it.
CREATE INDEX jobs_queued_fair ON jobs (model, (batch_id IS NOT NULL), (coalesce(owner, '')), id)
    WHERE status = 'queued';
