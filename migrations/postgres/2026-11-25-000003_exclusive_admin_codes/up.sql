-- Creation times live in issued_at; the separate stamps were never read.
ALTER TABLE recovery_flows DROP COLUMN created_at, DROP COLUMN updated_at;
ALTER TABLE recovery_codes DROP COLUMN created_at;

-- A code issued with invalidation on revokes the identity's earlier codes; this index makes it
-- the only live one even when two are issued at the same moment: the second writer waits for
-- the first, fails on the index, and is retried against the committed state.
ALTER TABLE recovery_codes ADD COLUMN exclusive boolean NOT NULL DEFAULT false;
CREATE UNIQUE INDEX recovery_codes_one_live_exclusive ON recovery_codes (identity_id)
    WHERE exclusive AND used_at IS NULL AND revoked_at IS NULL;
