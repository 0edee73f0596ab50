DROP INDEX recovery_codes_one_live_exclusive;
ALTER TABLE recovery_codes DROP COLUMN exclusive;
ALTER TABLE recovery_codes ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE recovery_flows
    ADD COLUMN created_at timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
