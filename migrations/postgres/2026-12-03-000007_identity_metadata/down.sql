ALTER TABLE identities DROP COLUMN metadata_public, DROP COLUMN metadata_admin;
