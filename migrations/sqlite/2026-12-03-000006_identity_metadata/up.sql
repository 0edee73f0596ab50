-- Kratos's metadata: what the identity may read, and what only the admin API shows. NULL when
-- absent, never the JSON null. NULL is allowed in so many words: older SQLite answers
-- json_valid(NULL) with 0, not NULL.
ALTER TABLE identities ADD COLUMN metadata_public TEXT
    CHECK (metadata_public IS NULL
           OR (json_valid(metadata_public) AND json_type(metadata_public) <> 'null'));
ALTER TABLE identities ADD COLUMN metadata_admin TEXT
    CHECK (metadata_admin IS NULL
           OR (json_valid(metadata_admin) AND json_type(metadata_admin) <> 'null'));
