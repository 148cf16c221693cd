-- Tenants (issue 10): each API key sees and acts on only what it created. The owner is the SHA-256 of the key, in
-- hex (never the key itself: a database dump must not hand out API keys). NULL: created while the API was open
-- (no keys configured), visible to everyone in open mode and to admin keys only once keys are configured.
ALTER TABLE jobs ADD COLUMN owner text;
ALTER TABLE batches ADD COLUMN owner text;
ALTER TABLE files ADD COLUMN owner text;

-- A tenant's job list (keyset on id), its batches (newest first) and its files.
CREATE INDEX jobs_owner ON jobs (owner, id) WHERE owner IS NOT NULL;
CREATE INDEX batches_owner ON batches (owner, created_at DESC, id DESC);
CREATE INDEX files_owner ON files (owner, created_at DESC);
