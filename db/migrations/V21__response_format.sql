-- Structured outputs (issue 12): a job whose output must be a JSON document has jobs.response_format, the engine's
-- one shape for it whatever API it came from: {"type": "json_object"} or {"type": "json_schema", "schema": {...}},
-- optionally with literal "prefix" and "suffix" strings forced around the document. Null: free text. The tail
-- compiles it into a grammar and masks the tokens that cannot continue the document; the submitter has already
-- refused (400) a schema the grammar cannot honour.
-- json, not jsonb: jsonb reorders object keys, and a schema's property order is the order the document is
-- generated in (a "reasoning" property before an "answer" one is the point of putting it first).
ALTER TABLE jobs ADD COLUMN response_format json;
