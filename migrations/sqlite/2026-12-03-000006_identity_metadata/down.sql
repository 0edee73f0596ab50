ALTER TABLE identities DROP COLUMN metadata_admin;
ALTER TABLE identities DROP COLUMN metadata_public;
