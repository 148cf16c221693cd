-- Tool calls (issue 12): a chat job given tools has jobs.tool_call_format = how its model writes a call ('hermes':
-- <tool_call> JSON blocks, Qwen 2.5/3 and Hermes; 'llama3': a JSON reply, Llama 3.x; 'generic': Hermes blocks asked
-- for by Bunshin's own tool prompt); null: no tools, the reply is text. The submitter parses the reply's calls when
-- it answers (also later, for a batch's output file); the pipeline never reads it.
ALTER TABLE jobs ADD COLUMN tool_call_format text CHECK (tool_call_format IN ('hermes', 'llama3', 'generic'));
