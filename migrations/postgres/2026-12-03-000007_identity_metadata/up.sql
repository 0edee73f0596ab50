-- Kratos's metadata: what the identity may read, and what only the admin API shows. NULL when
-- absent, never the JSON null.
ALTER TABLE identities
    ADD COLUMN metadata_public jsonb CHECK (metadata_public <> 'null'::jsonb),
    ADD COLUMN metadata_admin  jsonb CHECK (metadata_admin <> 'null'::jsonb);
