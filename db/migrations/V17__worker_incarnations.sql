-- A worker id is one process (issue 10). Every stage worker process registers with a fresh random incarnation:
-- a second process with a live id (another incarnation, a recent heartbeat) is refused, and a worker changes only
-- its own incarnation's row (heartbeat, loaded, stopped), so stopping an orphan never marks the live one.
-- Registered by an older worker: NULL (another incarnation than any new one).
ALTER TABLE workers ADD COLUMN incarnation text;

-- The incarnation of each stage's worker when the plan was made. A restarted scheduler adopts the stored plan only
-- if every stage's worker is live with the same incarnation; a worker that restarted lost its KV caches, so the
-- scheduler re-plans (a new epoch: every running job is re-prefilled). NULL for plans stored before this migration.
ALTER TABLE stage_plans ADD COLUMN worker_incarnation text;
