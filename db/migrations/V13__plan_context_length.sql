-- The effective context length (positions per job) travels with the plan: the scheduler derives it once, from
-- bunshin.context-length or else the model's trained context, and stores it with every stage of the plan; the
-- workers size their KV caches by it, the submitter refuses prompts that do not fit it. Plans stored before
-- this migration have none (NULL): readers then fall back to the model's trained context.
ALTER TABLE stage_plans ADD COLUMN context_length int CHECK (context_length > 0);
