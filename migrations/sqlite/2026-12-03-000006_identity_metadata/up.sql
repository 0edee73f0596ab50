-- Kratos's metadata: what the identity may read, and what only the admin API shows. NULL when
-- absent, never the JSON null.
ALTER TABLE identities ADD COLUMN metadata_public TEXT
    CHECK (json_valid(metadata_public) AND json_type(metadata_public) <> 'null');
ALTER TABLE identities ADD COLUMN metadata_admin TEXT
    CHECK (json_valid(metadata_admin) AND json_type(metadata_admin) <> 'null');
