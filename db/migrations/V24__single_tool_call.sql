-- Tool calls (issue 12): a chat job asked with "parallel_tool_calls": false answers at most one tool call, its reply's
-- first (OpenAI's contract); the rest of what the model wrote is dropped when the submitter answers (also later, for a
-- batch's output file). The pipeline never reads it.
ALTER TABLE jobs ADD COLUMN single_tool_call boolean NOT NULL DEFAULT false;
